import ProxyARPCore

/// Host networking that does nothing: the kernel's share of a VIP is not the daemon's memory.
struct NullHost: HostNetworking {
    func prepare(adapter: AdapterName) async throws(HostNetworkingError) {}
    func addLocalAddress(_ vip: IPv4Address) async throws(HostNetworkingError) {}
    func removeLocalAddress(_ vip: IPv4Address) async throws(HostNetworkingError) {}
    func bindOutboundPath(of vip: IPv4Address, to agent: AdapterName, replacing: AdapterName?) async throws(HostNetworkingError) {}
    func unbindOutboundPath(of vip: IPv4Address, from agent: AdapterName) async throws(HostNetworkingError) {}
}
