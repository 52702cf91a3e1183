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
/// every VIP while capture is still open.
struct Daemon {
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
        let engine = Engine(configuration: configuration, environment: environment, links: world.links)
        let path = configurationPath
        let logger = self.logger
        let stateDirectory = configuration.daemon.stateDirectory
        let reload: @Sendable () async -> ControlReply = {
            await Self.reload(engine: engine, path: path, notifier: notifier, clock: clock, logger: logger)
        }
        let signals = SignalService(
            reload: { _ = await reload() },
            dumpTrace: {
                Self.dumpTrace(trace, to: stateDirectory, clock: clock, logger: logger)
            },
            logger: logger
        )
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
            engine: engine, vips: configuration.vips.map(\.address), notifier: notifier, sockets: sockets,
            host: world.host, user: configuration.daemon.user, stateDirectory: configuration.daemon.stateDirectory,
            logger: logger
        )
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: world.ioService),
                    .init(service: engine),
                    .init(service: signals),
                    .init(service: Self.controlServer(configuration, engine: engine, world: world, clock: clock,
                                                      trace: trace, reload: reload, logger: logger,
                                                      listening: { sockets.opened("control") })),
                ] + (metricsServer.map { [.init(service: $0)] } ?? []) + [
                    // Last: first to hear of the shutdown (STOPPING=1).
                    .init(service: lifecycle),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
        await world.close(logger: logger)
        logger.info("stopped")
    }

    /// Loads the configuration file again and applies it (SIGHUP and the control socket's
    /// `reload`); a bad file is logged, reported, and the running configuration kept.
    static func reload(
        engine: Engine, path: String, notifier: SystemdNotifier?, clock: SystemClock, logger: Logger
    ) async -> ControlReply {
        let newConfiguration: DaemonConfiguration
        do {
            newConfiguration = try ConfigurationLoader.load(path: path)
        } catch {
            for problem in error.errors {
                logger.error("reload refused; keeping the running configuration", metadata: ["error": "\(problem)"])
            }
            return .failure("reload refused; keeping the running configuration", code: .reloadRefused, errors: error.errors.map { "\($0)" })
        }
        notifier?.notify(["RELOADING=1", "MONOTONIC_USEC=\(clock.now().nanoseconds / 1_000)"])
        let summary = await engine.apply(newConfiguration)
        notifier?.notify(["READY=1"])
        return ControlReply(ok: true, reload: summary)
    }

    /// The control socket, last in the group so that it stops first.
    static func controlServer(
        _ configuration: DaemonConfiguration, engine: Engine, world: LiveWorld, clock: SystemClock, trace: TraceLog,
        reload: @escaping @Sendable () async -> ControlReply, logger: Logger,
        listening: @escaping @Sendable () -> Void
    ) -> ControlServer {
        let io = world.io
        let handlers = ControlHandlers(
            status: {
                let status = await engine.status()
                let counters = io.counters().map {
                    AdapterIOCounters(
                        adapter: $0.adapter, framesSeen: $0.framesSeen, requestsSeen: $0.requestsSeen,
                        repliesSent: $0.repliesSent, injectErrors: $0.injectErrors, controlFramesSent: $0.controlFramesSent
                    )
                }
                let replies = Dictionary(uniqueKeysWithValues: io.repliesPerVIP().map { ($0.key.description, $0.value) })
                return StatusReport(
                    engine: status, io: counters, repliesByVIP: replies, monotonicNanoseconds: clock.now().nanoseconds,
                    wallNanoseconds: clock.wallNanoseconds()
                )
            },
            reload: reload
        )
        return ControlServer(
            path: configuration.control.socketPath, group: configuration.control.group, handlers: handlers,
            trace: trace, logger: logger, listening: listening
        )
    }

    /// Writes the trace ring to `DIRECTORY/trace-WALLNANOS.jsonl`.
    static func dumpTrace(_ trace: TraceLog, to directory: String, clock: SystemClock, logger: Logger) {
        let path = "\(directory)/trace-\(clock.wallNanoseconds()).jsonl"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let records = trace.records
            try TraceFile.write(records, to: path)
            logger.info("trace written", metadata: ["path": "\(path)", "records": "\(records.count)", "dropped": "\(trace.dropped)"])
        } catch {
            logger.error("trace dump failed", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }
}
