import ProxyARPCore

/// A responder below the pcap path: it answers some requests itself before any capture sees
/// them, and passes everything else on. ``XDPFastPath`` is the one implementation;
/// ``PcapFrameIO`` drives it (attach with each capture, mirror every published answer table,
/// merge its counters), so the engine never knows it exists.
public protocol FastPath: Sendable {
    /// Attaches to `adapter` (whose MAC is `mac`), replacing what an earlier instance of the
    /// daemon left there. Returns the mode it runs in.
    func attach(adapter: AdapterName, mac: MACAddress) throws(XDPError) -> XDPAttachMode

    /// Detaches from `adapter` (nothing attached is fine): its requests go to pcap again.
    func detach(adapter: AdapterName)

    /// Mirrors `table` (new entries before removed ones: make-before-break).
    func publish(_ table: AnswerTable)

    /// Replies sent and requests dropped on each adapter so far, read at call time.
    func adapterCounts() -> [AdapterName: FastPathCounts]

    /// Replies sent per VIP so far, read at call time.
    func repliesPerVIP() -> [IPv4Address: UInt64]

    /// The adapters attached now, with their mode.
    var attachments: [AdapterName: XDPAttachMode] { get }

    /// Detaches from every adapter and releases the program. Idempotent.
    func shutdown()
}

/// The fast path's counters on one adapter.
public struct FastPathCounts: Sendable, Hashable {
    /// Requests answered in the fast path.
    public var replies: UInt64
    /// Plain requests for a VIP that another adapter answers, dropped.
    public var dropped: UInt64
    /// Frames passed on to the kernel (and the pcap path).
    public var passed: UInt64
    /// Of those, frames whose VLAN tag the driver had taken off (a VLAN ID other than 0), or
    /// could not report: left to the pcap path, which sees the tag.
    public var offloadedVLAN: UInt64

    /// Creates counts.
    public init(replies: UInt64 = 0, dropped: UInt64 = 0, passed: UInt64 = 0, offloadedVLAN: UInt64 = 0) {
        self.replies = replies
        self.dropped = dropped
        self.passed = passed
        self.offloadedVLAN = offloadedVLAN
    }
}
