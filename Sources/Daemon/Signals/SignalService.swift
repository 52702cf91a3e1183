import Logging
import ServiceLifecycle
import UnixSignals

/// Turns SIGHUP into a configuration reload and SIGUSR1 into a trace dump, until the
/// group shuts down. SIGTERM and SIGINT belong to the `ServiceGroup` (graceful shutdown).
struct SignalService: Service {
    /// What to do on SIGHUP.
    var reload: @Sendable () async -> Void
    /// What to do on SIGUSR1.
    var dumpTrace: @Sendable () async -> Void
    /// Logger.
    var logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup, .sigusr1)
        await cancelWhenGracefulShutdown {
            for await signal in signals {
                switch signal {
                case .sighup:
                    logger.info("SIGHUP: reloading configuration")
                    await reload()
                case .sigusr1:
                    await dumpTrace()
                default:
                    break
                }
            }
        }
    }
}
