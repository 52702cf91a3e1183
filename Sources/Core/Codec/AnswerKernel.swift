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
///
/// IPv6 frames go to ``NDPParser`` and ``NDPAnswerRules`` (a separate, not inlined path):
/// advertisements are written into the same buffer, and NDP observations are kept in
/// ``ndpObservations``. The ARP path's parse, decide and encode are unchanged; the call
/// costs every ARP frame 8.9 instructions in this function's prologue and spills (1066.5 →
/// 1075.4 a frame, callgrind, `FastPathCount 1 100`).
public struct AnswerKernel {
    /// Bytes the reply buffer must hold: the longest ARP reply or Neighbor Advertisement.
    public static let replyCapacity = max(ARPEncoder.maximumLength, NDPEncoder.maximumLength)
    /// Counter slots of ``ignored``: at least `IgnoreReason.allCases.count`.
    public static let ignoreSlots = 32

    /// The adapter's view of the answer table, read once per batch.
    public let view: AnswerView
    /// Where each reply is written before it is sent (``replyCapacity`` bytes; a shorter
    /// buffer gets ARP replies only, an advertisement that does not fit counts as a send error).
    public let reply: UnsafeMutableRawBufferPointer
    /// Frames handled.
    public private(set) var frames = 0
    /// ARP requests and Neighbor Solicitations among them (answered or not).
    public private(set) var requests = 0
    /// Neighbor Solicitations among ``requests``.
    public private(set) var solicitations = 0
    /// Replies `send` accepted.
    public private(set) var replies = 0
    /// Replies `send` refused.
    public private(set) var sendErrors = 0
    /// Ignored frames per ``IgnoreReason/counterIndex``.
    public private(set) var ignored = InlineArray<32, UInt32>(repeating: 0)
    /// What the NDP path saw that the control plane must hear (rare: appended, so the
    /// array allocates only in a batch that has one).
    public private(set) var ndpObservations: [NDPObservation] = []
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
        case .notARP:
            // The header is not bound here (binding it cost ARP frames 1.9 more instructions
            // each in outlined enum copies, callgrind); the IPv6 path parses it again.
            answerNonARP(bytes, send: send)
            return nil
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

    /// A frame that is not ARP: IPv6 goes to the Neighbor Discovery path, the rest is
    /// counted as `.notARP`.
    @inline(never)
    private mutating func answerNonARP(_ bytes: UnsafeRawBufferPointer, send: (UnsafeRawBufferPointer) -> Bool) {
        guard case .notARP(let header) = FrameParser.parse(bytes), header.etherType == EtherType.ipv6 else {
            ignored[IgnoreReason.notARP.counterIndex] &+= 1
            return
        }
        answerNeighborDiscovery(bytes, ethernet: header, send: send)
    }

    /// The IPv6 path: parse Neighbor Discovery, decide with ``NDPAnswerRules``, send.
    private mutating func answerNeighborDiscovery(
        _ bytes: UnsafeRawBufferPointer, ethernet: EthernetHeader, send: (UnsafeRawBufferPointer) -> Bool
    ) {
        let decision: NDPDecision
        switch NDPParser.parse(bytes, ethernet: ethernet) {
        case .notNDP: decision = .ignore(.notNeighborDiscovery)
        case .malformed(let reason): decision = .ignore(.malformed(reason))
        case .ndp(let frame):
            if frame.message == .solicitation {
                requests &+= 1
                solicitations &+= 1
            }
            decision = NDPAnswerRules.decide(frame, view: view)
        }
        switch decision {
        case .advertise(let plan, let observation):
            if reply.count >= plan.length,
                send(UnsafeRawBufferPointer(rebasing: reply[..<plan.encode(into: reply)]))
            {
                replies &+= 1
            } else {
                sendErrors &+= 1
            }
            if let observation { ndpObservations.append(observation) }
        case .observe(let observation):
            ndpObservations.append(observation)
        case .ignore(let reason):
            ignored[reason.counterIndex] &+= 1
        }
    }
}
