import CPcap
import ProxyARPCore

/// The state of one `pcap_dispatch` batch: what the C callback needs to decide and
/// answer each frame, and the batch's tallies. Lives on the capture thread's stack for
/// the duration of the batch; the callback reaches it through pcap's user pointer.
///
/// Per frame it parses once, decides with ``AnswerRules``, writes a reply into the
/// adapter's preallocated buffer and injects it: no allocation (observations, which are
/// rare, append to an array).
struct CaptureBatch: ~Copyable {
    let pcap: OpaquePointer
    let view: AnswerView
    let reply: UnsafeMutableRawBufferPointer
    let adapter: AdapterName
    let now: Instant
    var observations: [HeardObservation] = []
    var frames = 0
    var requests = 0
    var replies = 0
    var injectErrors = 0
    var ignored = InlineArray<16, UInt32>(repeating: 0)
    /// Replies per VIP in this batch. Handed in empty with its capacity kept from earlier
    /// batches, so counting allocates nothing once warm.
    var repliesByVIP: [IPv4Address: UInt32]

    init(
        pcap: OpaquePointer, view: AnswerView, reply: UnsafeMutableRawBufferPointer, adapter: AdapterName,
        now: Instant, repliesByVIP: consuming [IPv4Address: UInt32]
    ) {
        self.pcap = pcap
        self.view = view
        self.reply = reply
        self.adapter = adapter
        self.now = now
        self.repliesByVIP = repliesByVIP
    }

    /// Decides one frame and acts on the decision.
    mutating func handle(_ bytes: UnsafeRawBufferPointer) {
        frames += 1
        // Same as AnswerRules.decide(bytes, view:), parsed here once so that requests
        // can be counted without parsing twice.
        let decision: AnswerDecision
        switch FrameParser.parse(bytes) {
        case .notARP: decision = .ignore(.notARP)
        case .malformed(let reason): decision = .ignore(.malformed(reason))
        case .arp(let frame):
            if frame.arp.operation == .request { requests += 1 }
            decision = AnswerRules.decide(frame, view: view)
        }
        switch decision {
        case .reply(let plan, let observation):
            let length = plan.encode(into: reply)
            if pcap_inject(pcap, reply.baseAddress, length) == length {
                replies += 1
                repliesByVIP[plan.vip, default: 0] &+= 1
            } else {
                injectErrors += 1
            }
            if let observation { record(observation) }
        case .observe(let observation):
            record(observation)
        case .ignore(let reason):
            ignored[reason.counterIndex] &+= 1
        }
    }

    private mutating func record(_ observation: ARPObservation) {
        if observations.isEmpty { observations.reserveCapacity(16) }
        observations.append(HeardObservation(observation: observation, adapter: adapter, at: now))
    }

    /// The `pcap_dispatch` callback: `user` points at the batch.
    static let callback: pcap_handler = { user, header, bytes in
        guard let user, let header, let bytes else { return }
        let batch = UnsafeMutableRawPointer(user).assumingMemoryBound(to: CaptureBatch.self)
        batch.pointee.handle(UnsafeRawBufferPointer(start: bytes, count: Int(header.pointee.caplen)))
    }
}
