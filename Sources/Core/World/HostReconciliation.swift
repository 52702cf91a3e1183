/// What ``HostNetworking/reconcile(vips:adapters:)`` found and did at start: the kernel
/// state an earlier proxyarpd left (found by its marks), kept where it still matches the
/// configuration and removed where it does not.
public struct HostReconciliation: Sendable, Equatable {
    /// Each configured VIP whose rule was kept, and the agent that rule binds it to: the
    /// selection's hint (keep the VIP there when that adapter is eligible).
    public var previousAgents: [IPAddress: AdapterName]
    /// Rules left in place.
    public var keptRules: Int
    /// Rules removed (unconfigured VIPs, adapters gone, duplicates, misplaced).
    public var removedRules: Int
    /// Local addresses or local routes on `lo` removed (VIPs no longer configured).
    public var removedLocal: Int
    /// Routes removed from the tables of adapters gone or no longer managed.
    public var removedRoutes: Int

    /// Creates a result.
    public init(previousAgents: [IPAddress: AdapterName] = [:], keptRules: Int = 0, removedRules: Int = 0,
                removedLocal: Int = 0, removedRoutes: Int = 0) {
        self.previousAgents = previousAgents
        self.keptRules = keptRules
        self.removedRules = removedRules
        self.removedLocal = removedLocal
        self.removedRoutes = removedRoutes
    }
}
