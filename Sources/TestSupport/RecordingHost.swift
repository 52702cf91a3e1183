import ProxyARPCore
import Synchronization

/// Host networking that records what the daemon would do to the kernel: the VIPs on
/// `lo` and each VIP's outbound binding, checking make-before-break on every move.
public final class RecordingHost: HostNetworking {
    private struct State {
        var prepared: Set<AdapterName> = []
        var loopback: Set<IPv4Address> = []
        var bindings: [IPv4Address: AdapterName] = [:]
        var breakBeforeMake = 0
    }

    private let state = Mutex(State())

    /// Creates an empty host.
    public init() {}

    /// Adapters prepared (sysctls set).
    public var prepared: Set<AdapterName> { state.withLock { $0.prepared } }
    /// VIPs currently on `lo`.
    public var loopback: Set<IPv4Address> { state.withLock { $0.loopback } }
    /// Outbound binding per VIP.
    public var bindings: [IPv4Address: AdapterName] { state.withLock { $0.bindings } }
    /// Moves where the old binding was gone before the new one was made.
    public var breakBeforeMakeCount: Int { state.withLock { $0.breakBeforeMake } }

    public func prepare(adapter: AdapterName) async throws(HostNetworkingError) {
        _ = state.withLock { $0.prepared.insert(adapter) }
    }

    public func addLocalAddress(_ vip: IPv4Address) async throws(HostNetworkingError) {
        _ = state.withLock { $0.loopback.insert(vip) }
    }

    public func removeLocalAddress(_ vip: IPv4Address) async throws(HostNetworkingError) {
        _ = state.withLock { $0.loopback.remove(vip) }
    }

    public func bindOutboundPath(of vip: IPv4Address, to agent: AdapterName, replacing: AdapterName?) async throws(HostNetworkingError) {
        state.withLock { state in
            if let replacing, state.bindings[vip] != replacing { state.breakBeforeMake += 1 }
            state.bindings[vip] = agent
        }
    }

    public func unbindOutboundPath(of vip: IPv4Address, from agent: AdapterName) async throws(HostNetworkingError) {
        state.withLock { state in
            if state.bindings[vip] == agent { state.bindings[vip] = nil }
        }
    }
}
