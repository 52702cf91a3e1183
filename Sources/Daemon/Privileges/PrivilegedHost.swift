import ProxyARPCore
import ProxyARPIO

/// The host side of activation (rtnetlink, sysctls), run on the leader thread: the one
/// thread that keeps CAP_NET_ADMIN after ``PrivilegeDrop`` (see ``LeaderThread``).
/// Each call is a few synchronous netlink round trips (microseconds).
///
/// **Binds are batched.** When a flap moves hundreds of VIPs, their binds queue on the
/// leader thread; one by one, each costs four (a first bind) to six (a move) netlink round
/// trips, two of them dumps, and the last VIP waits for all the others (issue 11's soak:
/// VIPs `enqueued` for seconds).
/// So a bind first joins ``pendingBinds`` and yields: the binds already queued on the
/// executor run first (the leader's executor is FIFO) and join too; the first to resume
/// binds the whole batch with ``NetlinkHost/bindOutboundPaths(_:)`` (each agent's link
/// and table once, then only rule changes: two round trips for a move), and every caller
/// takes its own result. Every other call first runs the binds still pending, so the
/// kernel sees the calls in the order they arrived (an unbind or the cleanup at exit never
/// overtakes a bind that arrived before it).
actor PrivilegedHost: HostNetworking {
    private let netlink: NetlinkHost
    private let executor: ThreadExecutor
    /// Binds waiting for the next batch, with their tickets.
    private var pendingBinds: [(ticket: UInt64, binding: OutboundPathBinding)] = []
    /// Results of batched binds whose callers have not resumed yet.
    private var bindResults: [UInt64: HostNetworkingError?] = [:]
    private var nextTicket: UInt64 = 0
    /// Batches run and binds in them, for tests and the bench.
    private(set) var batches = (count: 0, binds: 0)

    nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    /// A host on `executor`: the leader thread's in the daemon (tests pass their own).
    init(netlink: NetlinkHost, executor: ThreadExecutor = LeaderThread.executor) {
        self.netlink = netlink
        self.executor = executor
    }

    func prepare(adapter: AdapterName) throws(HostNetworkingError) {
        runPendingBinds()
        try netlink.prepare(adapter: adapter)
    }

    func refreshAgentTable(of adapter: AdapterName) throws(HostNetworkingError) {
        runPendingBinds()
        try netlink.refreshAgentTable(of: adapter)
    }

    func addLocalAddress(_ vip: IPAddress) throws(HostNetworkingError) {
        runPendingBinds()
        try netlink.addLocalAddress(vip)
    }

    func removeLocalAddress(_ vip: IPAddress) throws(HostNetworkingError) {
        runPendingBinds()
        try netlink.removeLocalAddress(vip)
    }

    /// Joins the next batch of binds (see the type comment) and returns its own outcome.
    func bindOutboundPath(of vip: IPAddress, to agent: AdapterName, replacing: AdapterName?) async throws(HostNetworkingError) {
        nextTicket += 1
        let ticket = nextTicket
        pendingBinds.append((ticket, OutboundPathBinding(vip: vip, agent: agent, replacing: replacing)))
        // Let the binds already queued on the executor join before the batch runs.
        await Task.yield()
        if bindResults[ticket] == nil { runPendingBinds() }
        if let error = bindResults.removeValue(forKey: ticket) ?? nil { throw error }
    }

    /// Binds every pending VIP in one ``NetlinkHost/bindOutboundPaths(_:)`` call.
    private func runPendingBinds() {
        let batch = pendingBinds
        pendingBinds = []
        guard !batch.isEmpty else { return }
        let errors = netlink.bindOutboundPaths(batch.map(\.binding))
        for (pending, error) in zip(batch, errors) { bindResults[pending.ticket] = .some(error) }
        batches.count += 1
        batches.binds += batch.count
    }

    func unbindOutboundPath(of vip: IPAddress, from agent: AdapterName) throws(HostNetworkingError) {
        runPendingBinds()
        try netlink.unbindOutboundPath(of: vip, from: agent)
    }

    func reconcile(vips: AddressSet, adapters: [AdapterName]) throws(HostNetworkingError) -> HostReconciliation {
        runPendingBinds()
        return try netlink.reconcile(vips: vips, adapters: adapters)
    }

    /// Removes every proxyarpd rule and route (and, with `removingLocal`, every marked local
    /// address or route), whichever instance installed them.
    func cleanup(removingLocal: Bool) throws -> (rules: Int, routes: Int, local: Int) {
        runPendingBinds()
        return try netlink.cleanup(removingLocal: removingLocal)
    }

    /// Writes back the adapters' sysctls as found at start.
    func restoreAdapterSysctls() throws -> Int {
        runPendingBinds()
        return try netlink.restoreAdapterSysctls()
    }

    /// Switches the process to `user` keeping CAP_NET_RAW and CAP_NET_ADMIN on this (the
    /// leader) thread. See ``PrivilegeDrop/perform(user:stateDirectory:)``.
    func dropPrivileges(to user: String, stateDirectory: String) throws(PrivilegeDropError) -> PrivilegeDrop.Identity {
        try PrivilegeDrop.perform(user: user, stateDirectory: stateDirectory)
    }
}
