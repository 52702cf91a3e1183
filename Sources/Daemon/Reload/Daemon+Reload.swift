import Logging
import ProxyARPActors
import ProxyARPConfig
import ProxyARPControl
import ProxyARPCore
import ProxyARPIO

extension Daemon {
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
        notifier?.notify(.reloading(monotonicMicroseconds: clock.now().nanoseconds / 1_000))
        let summary = await engine.apply(newConfiguration)
        notifier?.notify(.reloaded)
        return ControlReply(ok: true, reload: summary)
    }
}
