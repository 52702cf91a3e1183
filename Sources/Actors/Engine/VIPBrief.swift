import ProxyARPCore

/// What a `status` summary counts per VIP: its state's name and its agent, built without
/// any per-VIP text (at 130,000 VIPs the full ``VIPStatus`` list took seconds to build).
public struct VIPBrief: Sendable, Equatable {
    /// The VIP.
    public var vip: IPAddress
    /// `pending`, `broadcast`, `enqueued`, `active`, `withdrawn`, `failed`, `conflict`.
    public var state: String
    /// The agent adapter, if any.
    public var agent: AdapterName?
    /// Foreign claims counted for this VIP since start.
    public var conflicts: Int

    /// Creates a brief.
    public init(vip: IPAddress, state: String, agent: AdapterName?, conflicts: Int) {
        self.vip = vip
        self.state = state
        self.agent = agent
        self.conflicts = conflicts
    }
}
