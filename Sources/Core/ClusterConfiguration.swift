/// What a host does with the VIPs it owns when no etcd endpoint confirms its lease.
public enum QuorumLossPolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// Stop answering and announcing at the fence deadline (last acknowledged keepalive's
    /// send time + the TTL the server returned − the guard). Another host may then claim.
    case fence
    /// Keep serving what the host owned while *no* endpoint answers at all (the whole etcd
    /// cluster is down or unreachable, so nobody else can claim either), with an alarm.
    /// An endpoint that answers "lease gone" still fences at once. Trade-off: if only this
    /// host's path to etcd is cut while the others still reach a quorum, two hosts answer.
    case hold
}

/// TLS material for the etcd client: PEM file paths.
public struct EtcdTLSConfiguration: Sendable, Hashable, Codable {
    /// CA bundle that signed the etcd servers' certificates.
    public var caFile: String
    /// Client certificate (for etcd's `--client-cert-auth`); nil: no client certificate.
    public var certificateFile: String?
    /// The client certificate's private key; set exactly when ``certificateFile`` is.
    public var keyFile: String?

    /// Creates TLS settings.
    public init(caFile: String, certificateFile: String? = nil, keyFile: String? = nil) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }
}

/// How to reach etcd.
public struct EtcdConfiguration: Sendable, Hashable, Codable {
    /// Client URLs (`http://198.18.9.1:2379`, `https://…`), tried in order with failover.
    public var endpoints: [String]
    /// TLS for `https://` endpoints; nil: the system's defaults.
    public var tls: EtcdTLSConfiguration?
    /// etcd user (its `auth enable`); nil: no authentication.
    public var username: String?
    /// The user's password; set exactly when ``username`` is.
    public var password: String?

    /// Creates the etcd settings.
    public init(endpoints: [String], tls: EtcdTLSConfiguration? = nil, username: String? = nil, password: String? = nil) {
        self.endpoints = endpoints
        self.tls = tls
        self.username = username
        self.password = password
    }
}

/// The `cluster:` section: several hosts share the VIP pool through etcd leases.
/// Absent from the file (nil in ``DaemonConfiguration``): one host, no etcd.
public struct ClusterConfiguration: Sendable, Hashable, Codable {
    /// How to reach etcd.
    public var etcd: EtcdConfiguration
    /// This host's name in the cluster (key values, rendezvous hashing). Default: the hostname.
    public var host: String
    /// The lease TTL asked of etcd; the server may raise it to its minimum. Default 1 s.
    public var leaseTTL: Duration
    /// Prefix of every key this cluster writes. Default `/proxyarpd/`.
    public var keyPrefix: String
    /// What to do when etcd cannot confirm the lease. Default ``QuorumLossPolicy/fence``.
    public var onQuorumLoss: QuorumLossPolicy
    /// Rebalancing: a unit's owner hands it to its natural owner (rendezvous rank 0,
    /// `preferred_hosts` first) once that host has been a member able to serve for this
    /// long. `.zero` (`off` in the file): never; the first owner keeps a unit until it
    /// goes. Default 3 s.
    public var rebalanceAfter: Duration = .seconds(3)

    /// The default key prefix.
    public static let defaultKeyPrefix = "/proxyarpd/"

    /// Creates the cluster settings with the documented defaults.
    public init(
        etcd: EtcdConfiguration, host: String, leaseTTL: Duration = .seconds(1),
        keyPrefix: String = ClusterConfiguration.defaultKeyPrefix, onQuorumLoss: QuorumLossPolicy = .fence
    ) {
        self.etcd = etcd
        self.host = host
        self.leaseTTL = leaseTTL
        self.keyPrefix = keyPrefix
        self.onQuorumLoss = onQuorumLoss
    }
}
