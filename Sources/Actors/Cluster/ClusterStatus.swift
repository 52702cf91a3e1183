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
    /// `on_quorum_loss: hold`: true while the host keeps serving what it owned although no
    /// keepalive was acknowledged (no etcd endpoint answers). Nil from older daemons.
    public var holding: Bool?
    /// The last etcd error that is not "unreachable" (refused credentials, an error status),
    /// until a keepalive is acknowledged again; nil while etcd answers.
    public var etcdError: String?
    /// Each unit: its state here, owner host and fencing token (all of them, the one asked
    /// for with `--vip`, or none when a large pool is summarized by ``unitsByOwner``).
    public var units: [UnitStatus]
    /// The lease's TTL as the server granted it, in milliseconds.
    public var leaseTTLMilliseconds: Int64?
    /// Time left on the lease as this host can vouch for it: the last acknowledged
    /// keepalive's send time + the TTL − now (the fence deadline is earlier by its guard).
    public var leaseRemainingMilliseconds: Int64?
    /// `selection.block_prefix_length`: which unit holds a VIP (32: the VIP itself).
    public var blockPrefixLength: Int?
    /// How many units are configured.
    public var unitCount: Int?
    /// Units per owner host as this host knows them (`none`: nobody holds the key).
    public var unitsByOwner: [String: Int]?

    /// Creates a status (the optional fields start empty).
    public init(
        host: String, hosts: [String], lease: String?, fenceRemainingMilliseconds: Int64?, fenced: Bool, units: [UnitStatus]
    ) {
        self.host = host
        self.hosts = hosts
        self.lease = lease
        self.fenceRemainingMilliseconds = fenceRemainingMilliseconds
        self.fenced = fenced
        self.units = units
    }

    /// The unit holding `vip`, when listed.
    public func unit(holding vip: IPv4Address) -> UnitStatus? {
        let name = ClusterUnits.unit(of: vip, blockPrefixLength: blockPrefixLength ?? 32)
        return units.first { $0.unit == name }
    }

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

        /// Creates a unit's status.
        public init(unit: String, state: String, owner: String?, token: Int64?, vipCount: Int) {
            self.unit = unit
            self.state = state
            self.owner = owner
            self.token = token
            self.vipCount = vipCount
        }
    }
}
