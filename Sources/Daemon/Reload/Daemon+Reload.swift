import Logging
import ProxyARPActors
import ProxyARPConfig
import ProxyARPControl
import ProxyARPCore
import ProxyARPIO

extension Daemon {
    /// Loads the configuration file again and applies it (SIGHUP and the control socket's
    /// `reload`); a bad file is logged, reported, and the running configuration kept.
    /// Without `capturesNeighborDiscovery` (the captures were opened for a file without IPv6
    /// VIPs), IPv6 VIPs the new file adds are left out until a restart, and logged: they
    /// could not be answered or confirmed.
    static func reload(
        engine: Engine, cluster: ClusterCoordinator?, path: String, capturesNeighborDiscovery: Bool, notifier: SystemdNotifier?,
        clock: SystemClock, logger: Logger
    ) async -> ControlReply {
        var newConfiguration: DaemonConfiguration
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
        if !capturesNeighborDiscovery {
            let ipv6 = newConfiguration.ipv6VIPs.count
            if ipv6 > 0 {
                logger.error(
                    "IPv6 VIPs added by a reload are served after a restart: the captures were opened without Neighbor Discovery",
                    metadata: ["ipv6_vips": "\(ipv6)"])
                newConfiguration.vips.removeAll { $0.address.family == .ipv6 }
            }
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
