import ProxyARPCore

/// Cluster mode as `status` shows it.
public struct ClusterStatus: Sendable, Equatable, Codable {
    /// This host's name.
    public var host: String
    /// The live hosts (membership keys), sorted.
    public var hosts: [String]
    /// This host's lease, if it holds one.
    public var lease: String?
    /// Time left before the fence deadline, in milliseconds (negative: fenced).
    public var fenceRemainingMilliseconds: Int64?
    /// True while the answer path is fenced.
    public var fenced: Bool
    /// Each unit: its state here, owner host and fencing token.
    public var units: [UnitStatus]

    /// One unit.
    public struct UnitStatus: Sendable, Equatable, Codable {
        /// The unit's name (a VIP or a block).
        public var unit: String
        /// The ownership machine's state on this host.
        public var state: String
        /// The owner host as the store says (nil: none known).
        public var owner: String?
        /// The owner's fencing token.
        public var token: Int64?
        /// The unit's VIPs.
        public var vipCount: Int
    }
}
