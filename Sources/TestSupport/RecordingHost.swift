import ProxyARPCore
import Synchronization

/// Host networking that records what the daemon would do to the kernel: the VIPs on
/// `lo` and each VIP's outbound binding, checking make-before-break on every move.
/// With `records: false` it does nothing at all (the memory probe: the kernel's share of
/// a VIP is not the daemon's memory).
public final class RecordingHost: HostNetworking {
    private struct State {
        var prepared: Set<AdapterName> = []
        var preparations: [AdapterName: Int] = [:]
        var tableRefreshes: [AdapterName: Int] = [:]
        var loopback: Set<IPAddress> = []
        var bindings: [IPAddress: AdapterName] = [:]
        var breakBeforeMake = 0
        var onRemoveLocalAddress: (@Sendable (IPAddress) async -> Void)?
        var leftovers: [IPAddress: AdapterName] = [:]
        var reconciled: [AddressSet] = []
    }

    private let state = Mutex(State())
    private let records: Bool

    /// Creates an empty host; with `records: false` every call is a no-op and the
    /// properties stay empty.
    public init(records: Bool = true) {
        self.records = records
    }

    /// Adapters prepared (sysctls set).
    public var prepared: Set<AdapterName> { state.withLock { $0.prepared } }
    /// How many times each adapter was prepared (at start, and again when re-created).
    public var preparations: [AdapterName: Int] { state.withLock { $0.preparations } }
    /// How many times each adapter's agent table was rewritten.
    public var agentTableRefreshes: [AdapterName: Int] { state.withLock { $0.tableRefreshes } }
    /// VIPs currently on `lo`.
    public var loopback: Set<IPAddress> { state.withLock { $0.loopback } }
    /// Outbound binding per VIP.
    public var bindings: [IPAddress: AdapterName] { state.withLock { $0.bindings } }
    /// Moves where the old binding was gone before the new one was made.
    public var breakBeforeMakeCount: Int { state.withLock { $0.breakBeforeMake } }

    public func prepare(adapter: AdapterName) async throws(HostNetworkingError) {
        guard records else { return }
        state.withLock { state in
            state.prepared.insert(adapter)
            state.preparations[adapter, default: 0] += 1
        }
    }

    public func refreshAgentTable(of adapter: AdapterName) async throws(HostNetworkingError) {
        guard records else { return }
        state.withLock { $0.tableRefreshes[adapter, default: 0] += 1 }
    }

    public func addLocalAddress(_ vip: IPAddress) async throws(HostNetworkingError) {
        guard records else { return }
        _ = state.withLock { $0.loopback.insert(vip) }
    }

    public func removeLocalAddress(_ vip: IPAddress) async throws(HostNetworkingError) {
        guard records else { return }
        let hook = state.withLock { state in
            state.loopback.remove(vip)
            return state.onRemoveLocalAddress
        }
        await hook?(vip)
    }

    /// Runs `hook` each time a VIP is removed from `lo` (after the removal), for tests that
    /// act while the daemon withdraws.
    public func whenRemovingLocalAddress(_ hook: @escaping @Sendable (IPAddress) async -> Void) {
        state.withLock { $0.onRemoveLocalAddress = hook }
    }

    public func bindOutboundPath(of vip: IPAddress, to agent: AdapterName, replacing: AdapterName?) async throws(HostNetworkingError) {
        guard records else { return }
        state.withLock { state in
            if let replacing, state.bindings[vip] != replacing { state.breakBeforeMake += 1 }
            state.bindings[vip] = agent
        }
    }

    /// Makes the next ``reconcile(vips:adapters:)`` report these bindings as left by an
    /// earlier instance (those of configured VIPs and managed adapters become previous agents
    /// and current bindings).
    public func leaveBehind(_ bindings: [IPAddress: AdapterName]) {
        state.withLock { $0.leftovers = bindings }
    }

    /// The VIP sets reconcile was called with, in order.
    public var reconciledVIPs: [AddressSet] { state.withLock { $0.reconciled } }

    public func reconcile(vips: AddressSet, adapters: [AdapterName]) async throws(HostNetworkingError) -> HostReconciliation {
        guard records else { return HostReconciliation() }
        return state.withLock { state in
            state.reconciled.append(vips)
            let managed = Set(adapters)
            let kept = state.leftovers.filter { ($0.key.ipv4.map { vips.contains($0) } ?? false) && managed.contains($0.value) }
            for (vip, agent) in kept { state.bindings[vip] = agent }
            defer { state.leftovers = [:] }
            return HostReconciliation(
                previousAgents: kept, keptRules: kept.count, removedRules: state.leftovers.count - kept.count)
        }
    }

    public func unbindOutboundPath(of vip: IPAddress, from agent: AdapterName) async throws(HostNetworkingError) {
        guard records else { return }
        state.withLock { state in
            if state.bindings[vip] == agent { state.bindings[vip] = nil }
        }
    }
}
