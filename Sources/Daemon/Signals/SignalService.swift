import Logging
import ServiceLifecycle
import UnixSignals

/// Turns SIGHUP into a configuration reload and SIGUSR1 into a trace dump, until the
/// group shuts down. SIGTERM and SIGINT belong to the `ServiceGroup` (graceful shutdown).
///
/// Owns the ``ReloadCoalescer``'s loop (a child task): a SIGHUP only asks for a reload,
/// so signals are never queued behind one, and a burst becomes one reload.
struct SignalService: Service {
    /// Where SIGHUP (and the control socket's `reload`) ask for a reload.
    var reloads: ReloadCoalescer
    /// What to do on SIGUSR1.
    var dumpTrace: @Sendable () async -> Void
    /// Logger.
    var logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup, .sigusr1)
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await reloads.run() }
                for await signal in signals {
                    switch signal {
                    case .sighup:
                        logger.debug("SIGHUP: reload requested")
                        reloads.request()
                    case .sigusr1:
                        await dumpTrace()
                    default:
                        break
                    }
                }
                group.cancelAll()
            }
        }
    }
}
