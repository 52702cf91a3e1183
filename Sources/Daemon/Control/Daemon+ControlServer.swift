import Logging
import ProxyARPActors
import ProxyARPControl
import ProxyARPCore
import ProxyARPIO

extension Daemon {
    /// The control socket, last in the group so that it stops first.
    static func controlServer(
        _ configuration: DaemonConfiguration, engine: Engine, cluster: ClusterCoordinator? = nil, world: LiveWorld, clock: SystemClock, trace: TraceLog,
        reload: @escaping @Sendable () async -> ControlReply, logger: Logger,
        listening: @escaping @Sendable () -> Void
    ) -> ControlServer {
        let io = world.io
        let handlers = ControlHandlers(
            status: { request in
                let (status, summary) = await StatusSelection.engineStatus(for: request, engine: engine)
                let fastPath = io.fastPath?.attachments ?? [:]
                let counters = io.counters().map {
                    var counters = AdapterIOCounters(
                        adapter: $0.adapter, framesSeen: $0.framesSeen, requestsSeen: $0.requestsSeen,
                        repliesSent: $0.repliesSent, injectErrors: $0.injectErrors, controlFramesSent: $0.controlFramesSent
                    )
                    if fastPath[$0.adapter] != nil {
                        counters.fastPathReplies = $0.fastPathReplies
                        counters.fastPathDropped = $0.fastPathDropped
                    }
                    return counters
                }
                // Reply counts for the VIPs the reply shows only.
                let shown = Set((status.vips + (summary?.notActive ?? [])).map(\.vip))
                var replies: [String: UInt64] = [:]
                for (vip, count) in io.repliesPerVIP() where summary == nil || shown.contains(.v4(vip)) {
                    replies[vip.description] = count
                }
                var report = StatusReport(
                    engine: status, io: counters, repliesByVIP: replies, monotonicNanoseconds: clock.now().nanoseconds,
                    wallNanoseconds: clock.wallNanoseconds()
                )
                report.summary = summary
                // Cluster mode: every unit, the one holding --vip, or (a large pool, no --all) counts per owner.
                let vip = request.vip.flatMap(IPAddress.init)
                report.cluster = await cluster?.status(vip: vip, listAll: request.all == true)
                return report
            },
            reload: reload
        )
        return ControlServer(
            path: configuration.control.socketPath, group: configuration.control.group, handlers: handlers,
            trace: trace, logger: logger, listening: listening
        )
    }
}
