import ProxyARPCore

/// A reload whose `cluster:` section differs from the running one: the etcd client, the
/// host name, the lease and the key prefix are fixed at start, so the change needs a
/// restart and the running configuration is kept.
public struct ClusterReloadRefused: Error, Sendable, Equatable, CustomStringConvertible {
    /// The running section.
    public var running: ClusterConfiguration?
    /// The section of the file that was read.
    public var requested: ClusterConfiguration?

    /// Creates the error.
    public init(running: ClusterConfiguration?, requested: ClusterConfiguration?) {
        self.running = running
        self.requested = requested
    }

    /// Which keys changed, e.g. `cluster.lease_ttl, cluster.etcd`, or the section's presence.
    public var changedKeys: [String] {
        guard let running, let requested else {
            return [running == nil ? "cluster (added)" : "cluster (removed)"]
        }
        var keys: [String] = []
        if running.etcd != requested.etcd { keys.append("cluster.etcd") }
        if running.host != requested.host { keys.append("cluster.host") }
        if running.leaseTTL != requested.leaseTTL { keys.append("cluster.lease_ttl") }
        if running.keyPrefix != requested.keyPrefix { keys.append("cluster.key_prefix") }
        if running.onQuorumLoss != requested.onQuorumLoss { keys.append("cluster.on_quorum_loss") }
        return keys.isEmpty ? ["cluster"] : keys
    }

    /// `the cluster: section changed (cluster.lease_ttl): that needs a restart; keeping the running configuration`.
    public var description: String {
        "the cluster: section changed (\(changedKeys.joined(separator: ", "))): that needs a restart; "
            + "keeping the running configuration"
    }
}
