/// The host-side effects of activation (ARCHITECTURE.md §2): the VIP as a local
/// address on `lo`, and its outbound path bound to its agent by a policy rule.
/// Every call throws a ``HostNetworkingError`` whose ``HostNetworkingError/code`` names the
/// cause.
public protocol HostNetworking: Sendable {
    /// Prepares a managed adapter: `arp_ignore=1`, `arp_announce=2`,
    /// `ignore_routes_with_linkdown=1`.
    func prepare(adapter: AdapterName) async throws(HostNetworkingError)
    /// Rewrites the agent table `T(adapter)` from the adapter's current addresses (and the
    /// main default gateway), whether or not they seem changed: after the adapter was
    /// re-created (the kernel flushed the table's routes) or its addresses changed.
    /// Rules pointing at it then follow the adapter's new connected routes.
    func refreshAgentTable(of adapter: AdapterName) async throws(HostNetworkingError)
    /// Adds `vip/32` (IPv4) or `vip/128` without DAD (IPv6) to `lo` so the kernel accepts
    /// traffic for it. Idempotent.
    func addLocalAddress(_ vip: IPAddress) async throws(HostNetworkingError)
    /// Removes `vip/32` or `vip/128` from `lo`. Idempotent.
    func removeLocalAddress(_ vip: IPAddress) async throws(HostNetworkingError)
    /// Routes traffic from `vip` out of `agent`, adding the new rule before removing the
    /// one for `replacing` (make-before-break). For an IPv6 VIP, also joins its
    /// solicited-node group on `agent` before leaving it on `replacing`.
    func bindOutboundPath(of vip: IPAddress, to agent: AdapterName, replacing: AdapterName?) async throws(HostNetworkingError)
    /// At start, before any VIP is bound: reads back what an earlier instance left in the
    /// kernel (rules, routes and `lo` addresses carrying proxyarpd's marks), keeps what
    /// still matches the configured `vips` and managed `adapters` (at most one rule per VIP,
    /// into the table of an adapter that exists), removes the rest, and returns each kept
    /// VIP's previous agent.
    func reconcile(vips: AddressSet, adapters: [AdapterName]) async throws(HostNetworkingError) -> HostReconciliation
    /// Removes the rule that routes `vip` out of `agent` (and, for an IPv6 VIP, leaves its
    /// solicited-node group there).
    func unbindOutboundPath(of vip: IPAddress, from agent: AdapterName) async throws(HostNetworkingError)
}
