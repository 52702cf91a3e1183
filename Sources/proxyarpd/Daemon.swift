import Foundation
import Logging
import ProxyARPActors
import ProxyARPConfig
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
        let clock = SystemClock()
        let trace = TraceLog(capacity: configuration.daemon.traceCapacity, clock: clock)
        let world = try LiveWorld.open(configuration: configuration, logger: logger)
        let environment = EngineEnvironment(io: world.io, host: world.host, clock: clock, trace: trace, logger: logger)
        let engine = Engine(configuration: configuration, environment: environment, links: world.links)
        let path = configurationPath
        let logger = self.logger
        let stateDirectory = configuration.daemon.stateDirectory
        let signals = SignalService(
            reload: {
                let newConfiguration: DaemonConfiguration
                do {
                    newConfiguration = try ConfigurationLoader.load(path: path)
                } catch let error as ConfigurationErrors {
                    for problem in error.errors {
                        logger.error("reload refused; keeping the running configuration", metadata: ["error": "\(problem)"])
                    }
                    return
                } catch {
                    logger.error("reload refused; keeping the running configuration", metadata: ["error": "\(error)"])
                    return
                }
                await engine.apply(newConfiguration)
            },
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
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: world.ioService),
                    .init(service: engine),
                    .init(service: signals),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
        world.close(logger: logger)
        logger.info("stopped")
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
