import CPcap
import ProxyARPCore

/// The state of one `pcap_dispatch` batch: Core's ``AnswerKernel`` (parse, decide,
/// encode, tally) with `pcap_inject` as its send, and the batch's observations. Lives on
/// the capture thread's stack for the duration of the batch; the callback reaches it
/// through pcap's user pointer.
///
/// No allocation per frame (observations, which are rare, append to an array).
struct CaptureBatch: ~Copyable {
    let pcap: OpaquePointer
    let adapter: AdapterName
    let now: Instant
    /// The per-frame kernel and its tallies.
    var kernel: AnswerKernel
    var observations: [HeardObservation] = []

    init(
        pcap: OpaquePointer, view: AnswerView, reply: UnsafeMutableRawBufferPointer, adapter: AdapterName,
        now: Instant, repliesByVIP: consuming [IPv4Address: UInt32]
    ) {
        self.pcap = pcap
        self.adapter = adapter
        self.now = now
        self.kernel = AnswerKernel(view: view, reply: reply, repliesByVIP: consume repliesByVIP)
    }

    /// Decides one frame and acts on the decision.
    mutating func handle(_ bytes: UnsafeRawBufferPointer) {
        let pcap = self.pcap
        let observation = kernel.answer(bytes) { reply in
            pcap_inject(pcap, reply.baseAddress, reply.count) == reply.count
        }
        if let observation { record(observation) }
    }

    private mutating func record(_ observation: ARPObservation) {
        if observations.isEmpty { observations.reserveCapacity(16) }
        observations.append(HeardObservation(observation: observation, adapter: adapter, at: now))
    }

    /// Moves what the Neighbor Discovery path saw (kept by the kernel during the batch)
    /// into ``observations``, after the batch.
    mutating func recordNeighborDiscoveryObservations() {
        guard !kernel.ndpObservations.isEmpty else { return }
        for observation in kernel.ndpObservations {
            observations.append(HeardObservation(observation: observation, adapter: adapter, at: now))
        }
    }

    /// The `pcap_dispatch` callback: `user` points at the batch.
    static let callback: pcap_handler = { user, header, bytes in
        guard let user, let header, let bytes else { return }
        let batch = UnsafeMutableRawPointer(user).assumingMemoryBound(to: CaptureBatch.self)
        batch.pointee.handle(UnsafeRawBufferPointer(start: bytes, count: Int(header.pointee.caplen)))
    }
}
