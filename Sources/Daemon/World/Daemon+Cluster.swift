import Logging
import Metrics
import ProxyARPActors
import ProxyARPCore
import ProxyARPEtcd
import ProxyARPIO

extension Daemon {
    /// The cluster coordinator and its etcd client, when the file has a `cluster:` section.
    struct Cluster {
        let coordinator: ClusterCoordinator
        let store: EtcdOwnershipStore
        /// The lease keepalive's own thread (the cooperative pool may be busy activating VIPs).
        let keepaliveThread: TaskThread

        /// Closes the etcd client and ends the keepalive thread, after the coordinator returned.
        func shutdown() async {
            await store.shutdown()
            keepaliveThread.shutdown()
        }
    }

    /// Builds cluster mode's parts, or nil without a `cluster:` section. The fence is the
    /// answer table publisher's, which every capture thread reads once per batch.
    static func clusterCoordinator(
        _ configuration: DaemonConfiguration, engine: Engine, world: LiveWorld, clock: SystemClock, trace: TraceLog, logger: Logger
    ) throws -> Cluster? {
        guard let cluster = configuration.cluster else { return nil }
        let roundTrip = Metrics.Timer(label: ClusterMetrics.etcdRoundTrip)
        let store = try EtcdOwnershipStore(
            configuration: cluster.etcd, logger: logger,
            roundTrip: { roundTrip.recordNanoseconds($0.nanosecondsClamped) })
        let keepaliveThread = try TaskThread(name: "lease")
        let coordinator = ClusterCoordinator(
            configuration: configuration, store: store, engine: engine, fence: world.io.answerTable.fence, clock: clock,
            trace: trace, logger: logger, keepaliveThread: keepaliveThread)
        logger.info(
            "cluster mode", metadata: ["host": "\(cluster.host)", "endpoints": "\(cluster.etcd.endpoints)",
                                       "lease_ttl": "\(cluster.leaseTTL)", "on_quorum_loss": "\(cluster.onQuorumLoss.rawValue)"])
        return Cluster(coordinator: coordinator, store: store, keepaliveThread: keepaliveThread)
    }
}
