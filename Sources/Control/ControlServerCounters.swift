import Synchronization

/// What the control socket's bounds did so far, readable from any thread without a lock:
/// clients open now, refused (over the cap or out of descriptors), closed by a timeout,
/// and `trace --follow` records dropped for slow readers.
public final class ControlServerCounters: Sendable {
    private let open = Atomic<Int>(0)
    private let refusals = Atomic<Int>(0)
    private let timeouts = Atomic<Int>(0)
    private let drops = Atomic<Int>(0)

    /// Creates zeroed counters.
    public init() {}

    /// Clients connected now.
    public var openClients: Int { open.load(ordering: .relaxed) }
    /// Connections refused since start: over the client cap, or no descriptor left.
    public var refusedClients: Int { refusals.load(ordering: .relaxed) }
    /// Connections closed by the idle or the request timeout.
    public var timedOutClients: Int { timeouts.load(ordering: .relaxed) }
    /// `trace --follow` records dropped for clients that read too slowly.
    public var followRecordsDropped: Int { drops.load(ordering: .relaxed) }

    func setOpen(_ count: Int) { open.store(count, ordering: .relaxed) }
    func refused() { refusals.add(1, ordering: .relaxed) }
    func timedOut() { timeouts.add(1, ordering: .relaxed) }
    func followDropped(_ count: Int) { drops.add(count, ordering: .relaxed) }
}
