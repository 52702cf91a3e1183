import Foundation
import Logging
import ProxyARPActors
import ProxyARPConfig
import ProxyARPControl
import ProxyARPCore
import ProxyARPIO
import ServiceLifecycle

/// The running daemon: the live I/O, the engine and the signal handling in one
/// `ServiceGroup`. The I/O service is first, so it stops last: the engine withdraws
/// every VIP while capture is still open. ``launch(configurationPath:logLevel:)`` is what
/// `proxyarpd run` calls.
public struct Daemon {
    let configuration: DaemonConfiguration
    let configurationPath: String
    let logger: Logger

    init(configuration: DaemonConfiguration, configurationPath: String, logger: Logger) throws {
        self.configuration = configuration
        self.configurationPath = configurationPath
        self.logger = logger
    }

    func run() async throws {
        // Before any actor exists: swift-metrics handles made earlier stay no-ops.
        let metrics = configuration.metrics.port != 0 ? PrometheusMetrics.bootstrap() : nil
        let notifier = SystemdNotifier(environment: ProcessInfo.processInfo.environment, logger: logger)
        let clock = SystemClock()
        let trace = TraceLog(capacity: configuration.daemon.traceCapacity, clock: clock)
        let world = try LiveWorld.open(configuration: configuration, logger: logger)
        let environment = EngineEnvironment(io: world.io, host: world.host, clock: clock, trace: trace, logger: logger)
        // Cluster mode: the engine starts with no VIPs; the coordinator applies the owned ones.
        let engine = Engine(
            configuration: configuration.cluster == nil ? configuration : ClusterCoordinator.engineConfiguration(configuration),
            environment: environment, links: world.links)
        let cluster = try Self.clusterCoordinator(configuration, engine: engine, world: world, clock: clock, trace: trace, logger: logger)
        let path = configurationPath
        let logger = self.logger
        let stateDirectory = configuration.daemon.stateDirectory
        let reloads = ReloadCoalescer(logger: logger) {
            await Self.reload(
                engine: engine, cluster: cluster?.coordinator, path: path,
                notifier: notifier, clock: clock, logger: logger)
        }
        let reload: @Sendable () async -> ControlReply = { await reloads.requestAndWait() }
        let signals = SignalService(
            reloads: reloads,
            dumpTrace: {
                Self.dumpTrace(trace, to: stateDirectory, clock: clock, logger: logger)
            },
            logger: logger
        )
        if let hardening = ProcessHardening.outcome {
            logger.info(
                "process hardened",
                metadata: [
                    "no_new_privs": "\(hardening.noNewPrivileges ? 1 : 0)",
                    "capability_bounding_set": "0x\(String(hardening.boundingSet, radix: 16))",
                    "not_dropped": "\(hardening.notDropped.isEmpty ? "none" : "\(hardening.notDropped) (no CAP_SETPCAP)")",
                ]
            )
        }
        if let arenas = MallocArenas.applied {
            logger.info("malloc arenas bounded", metadata: ["arena_max": "\(arenas)"])
        }
        logger.info(
            "starting",
            metadata: [
                "config": "\(configurationPath)", "adapters": "\(configuration.adapters.map(\.name.rawValue))",
                "vips": "\(configuration.vips.count)",
            ]
        )
        // Listening sockets the privilege drop waits for (the control socket joins here).
        let sockets = StartupGate(waitingFor: metrics == nil ? ["control"] : ["control", "metrics"])
        let metricsServer = metrics.flatMap {
            MetricsServer.make(
                configuration: configuration.metrics, metrics: $0, io: world.io, logger: logger,
                listening: { sockets.opened("metrics") }
            )
        }
        let lifecycle = LifecycleService(
            engine: engine, readiness: cluster.map { LifecycleService.Readiness.cluster($0.coordinator) }
                ?? .vips(configuration.vips.map(\.address)),
            notifier: notifier, sockets: sockets,
            host: world.host, user: configuration.daemon.user, stateDirectory: configuration.daemon.stateDirectory,
            logger: logger
        )
        let control = Self.controlServer(
            configuration, engine: engine, cluster: cluster?.coordinator, world: world, clock: clock, trace: trace, reload: reload,
            logger: logger, listening: { sockets.opened("control") })
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: world.ioService)]
        // The tc rule that spares the kernel requests for active VIPs (root only; see the service).
        let guardsARP = configuration.io.arpGuard ?? (configuration.daemon.user == nil)
        if guardsARP && configuration.daemon.user != nil {
            logger.warning("io.arp_guard is off: it needs root's CAP_NET_ADMIN and CAP_BPF, and daemon.user drops them")
        } else if guardsARP {
            services.append(.init(service: ARPRequestGuardService(
                publisher: world.io.answerTable, adapters: configuration.adapters.map(\.name), logger: logger)))
        }
        services.append(.init(service: engine))
        services += [.init(service: signals), .init(service: control)]
        if let metricsServer { services.append(.init(service: metricsServer)) }
        // Near the end: among the first to hear of the shutdown (STOPPING=1).
        services.append(.init(service: lifecycle))
        // Cluster mode: last, so it stops first (services stop one after the other, in
        // reverse): fence and revoke the lease before anything else shuts down, while the
        // engine still runs; the next hosts take over at once.
        if let cluster { services.append(.init(service: cluster.coordinator)) }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
        await cluster?.shutdown()
        await world.close(removingLocal: configuration.daemon.removeVIPsOnExit, logger: logger)
        logger.info("stopped")
    }
}
