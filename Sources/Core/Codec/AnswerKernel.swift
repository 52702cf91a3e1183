/// The one per-frame answer kernel (ARCHITECTURE.md §5): for each frame of a capture
/// batch, parse once, decide with ``AnswerRules``, encode the reply into a buffer
/// allocated up front, hand it to the caller's `send`, and tally the outcome.
///
/// The production answer path (`CaptureBatch` in the IO module, where `send` is
/// `pcap_inject`) and the FastPath benchmarks (where `send` only accepts) run this same
/// code, so the instructions counted per frame are the daemon's.
///
/// No allocation per frame or per batch: the tallies are plain integers and
/// ``repliesByVIP`` is handed in empty with the capacity kept from earlier batches.
/// What the control plane must hear (``ARPObservation``) is returned to the caller,
/// which adds the adapter and the time.
public struct AnswerKernel {
    /// The adapter's view of the answer table, read once per batch.
    public let view: AnswerView
    /// Where each reply is written before it is sent (``ARPEncoder/maximumLength`` bytes).
    public let reply: UnsafeMutableRawBufferPointer
    /// Frames handled.
    public private(set) var frames = 0
    /// ARP requests among them (answered or not).
    public private(set) var requests = 0
    /// Replies `send` accepted.
    public private(set) var replies = 0
    /// Replies `send` refused.
    public private(set) var sendErrors = 0
    /// Ignored frames per ``IgnoreReason/counterIndex``.
    public private(set) var ignored = InlineArray<16, UInt32>(repeating: 0)
    /// Replies sent per VIP.
    public var repliesByVIP: [IPv4Address: UInt32]

    /// Creates a kernel for one batch. `repliesByVIP` should be empty; its capacity is
    /// kept, so a warm table counts without allocating.
    public init(view: AnswerView, reply: UnsafeMutableRawBufferPointer, repliesByVIP: consuming [IPv4Address: UInt32]) {
        self.view = view
        self.reply = reply
        self.repliesByVIP = repliesByVIP
    }

    /// Handles one frame: a reply is encoded into ``reply`` and passed to `send`, which
    /// returns whether it went out. Returns the observation the control plane must hear,
    /// if any (own announcements, conflicts, probes).
    public mutating func answer(
        _ bytes: UnsafeRawBufferPointer, send: (UnsafeRawBufferPointer) -> Bool
    ) -> ARPObservation? {
        frames &+= 1
        let decision: AnswerDecision
        switch FrameParser.parse(bytes) {
        case .notARP: decision = .ignore(.notARP)
        case .malformed(let reason): decision = .ignore(.malformed(reason))
        case .arp(let frame):
            if frame.arp.operation == .request { requests &+= 1 }
            decision = AnswerRules.decide(frame, view: view)
        }
        switch decision {
        case .reply(let plan, let observation):
            let length = plan.encode(into: reply)
            if send(UnsafeRawBufferPointer(rebasing: reply[..<length])) {
                replies &+= 1
                repliesByVIP[plan.vip, default: 0] &+= 1
            } else {
                sendErrors &+= 1
            }
            return observation
        case .observe(let observation):
            return observation
        case .ignore(let reason):
            ignored[reason.counterIndex] &+= 1
            return nil
        }
    }
}
