import Logging
import ProxyARPActors
import ProxyARPConfig
import ProxyARPControl
import ProxyARPCore
import ProxyARPIO

extension Daemon {
    /// Loads the configuration file again and applies it (SIGHUP and the control socket's
    /// `reload`); a bad file is logged, reported, and the running configuration kept.
    /// IPv6 VIPs are applied like IPv4 ones, the first ones too: each capture switches to
    /// the filter with Neighbor Discovery when the table gains IPv6 VIPs, and back when it
    /// loses the last (AdapterIO).
    static func reload(
        engine: Engine, cluster: ClusterCoordinator?, path: String, notifier: SystemdNotifier?,
        clock: SystemClock, logger: Logger
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
        if cluster == nil, newConfiguration.cluster != nil {
            let refused = ClusterReloadRefused(running: nil, requested: newConfiguration.cluster)
            logger.error("reload refused; keeping the running configuration", metadata: ["error": "\(refused)"])
            return .failure("reload refused; keeping the running configuration", code: .reloadRefused, errors: ["\(refused)"])
        }
        notifier?.notify(.reloading(monotonicMicroseconds: clock.now().nanoseconds / 1_000))
        if let cluster {
            // Cluster mode: units no longer configured are released, new ones claimed; the
            // coordinator applies the owned VIPs to the engine. The summary counts the pool.
            do {
                let summary = try await cluster.reload(newConfiguration)
                logger.info(
                    "cluster reload accepted",
                    metadata: ["added": "\(summary.added)", "removed": "\(summary.removed)", "changed": "\(summary.changed)"])
                notifier?.notify(.reloaded)
                return ControlReply(ok: true, reload: summary)
            } catch {
                logger.error("reload refused; keeping the running configuration", metadata: ["error": "\(error)"])
                notifier?.notify(.reloaded)
                return .failure("reload refused; keeping the running configuration", code: .reloadRefused, errors: ["\(error)"])
            }
        }
        let summary = await engine.apply(newConfiguration)
        notifier?.notify(.reloaded)
        return ControlReply(ok: true, reload: summary)
    }
}
