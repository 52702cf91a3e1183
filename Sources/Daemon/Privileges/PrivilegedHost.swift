import ProxyARPCore
import ProxyARPIO

/// The host side of activation (rtnetlink, sysctls), run on the leader thread: the one
/// thread that keeps CAP_NET_ADMIN after ``PrivilegeDrop`` (see ``LeaderThread``).
/// Each call is a few synchronous netlink round trips (microseconds).
actor PrivilegedHost: HostNetworking {
    private let netlink: NetlinkHost

    nonisolated var unownedExecutor: UnownedSerialExecutor {
        LeaderThread.executor.asUnownedSerialExecutor()
    }

    init(netlink: NetlinkHost) {
        self.netlink = netlink
    }

    func prepare(adapter: AdapterName) throws(HostNetworkingError) {
        try netlink.prepare(adapter: adapter)
    }

    func refreshAgentTable(of adapter: AdapterName) throws(HostNetworkingError) {
        try netlink.refreshAgentTable(of: adapter)
    }

    func addLocalAddress(_ vip: IPAddress) throws(HostNetworkingError) {
        try netlink.addLocalAddress(vip)
    }

    func removeLocalAddress(_ vip: IPAddress) throws(HostNetworkingError) {
        try netlink.removeLocalAddress(vip)
    }

    func bindOutboundPath(of vip: IPAddress, to agent: AdapterName, replacing: AdapterName?) throws(HostNetworkingError) {
        try netlink.bindOutboundPath(of: vip, to: agent, replacing: replacing)
    }

    func unbindOutboundPath(of vip: IPAddress, from agent: AdapterName) throws(HostNetworkingError) {
        try netlink.unbindOutboundPath(of: vip, from: agent)
    }

    func reconcile(vips: AddressSet, adapters: [AdapterName]) throws(HostNetworkingError) -> HostReconciliation {
        try netlink.reconcile(vips: vips, adapters: adapters)
    }

    /// Removes every proxyarpd rule and route (and, with `removingLocal`, every marked local
    /// address or route), whichever instance installed them.
    func cleanup(removingLocal: Bool) throws -> (rules: Int, routes: Int, local: Int) {
        try netlink.cleanup(removingLocal: removingLocal)
    }

    /// Writes back the adapters' sysctls as found at start.
    func restoreAdapterSysctls() throws -> Int {
        try netlink.restoreAdapterSysctls()
    }

    /// Switches the process to `user` keeping CAP_NET_RAW and CAP_NET_ADMIN on this (the
    /// leader) thread. See ``PrivilegeDrop/perform(user:stateDirectory:)``.
    func dropPrivileges(to user: String, stateDirectory: String) throws(PrivilegeDropError) -> PrivilegeDrop.Identity {
        try PrivilegeDrop.perform(user: user, stateDirectory: stateDirectory)
    }
}
