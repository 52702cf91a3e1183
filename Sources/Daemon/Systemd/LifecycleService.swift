import CMalloc
import Logging
import ProxyARPActors
import ProxyARPCore
import ServiceLifecycle
import Synchronization

/// Startup and liveness, after the other services started: waits until every listening
/// socket is open, drops privileges, tells systemd `READY=1` once every configured VIP is
/// settled (in cluster mode: once the host holds its lease, its first claims are settled
/// and the VIPs it owns are settled), pings the watchdog while the engine answers, and says
/// `STOPPING=1` when the graceful shutdown begins. Last in the group (in cluster mode only
/// the coordinator comes after it, to revoke its lease first), so first to hear of the shutdown.
struct LifecycleService: Service {
    /// What `READY=1` waits for.
    enum Readiness {
        /// These VIPs (the configuration's at start) are settled.
        case vips([IPAddress])
        /// The coordinator's first claims are settled, then the VIPs this host owns.
        case cluster(ClusterCoordinator)
    }

    let engine: Engine
    /// What `READY=1` waits for.
    let readiness: Readiness
    let notifier: SystemdNotifier?
    /// Listening sockets that must be open before the drop.
    let sockets: StartupGate
    let host: PrivilegedHost
    let user: String?
    let stateDirectory: String
    let logger: Logger

    /// How long the drop waits for the listening sockets.
    static let socketTimeout: Duration = .seconds(10)
    /// How often readiness is checked.
    static let settlePoll: Duration = .milliseconds(20)

    func run() async throws {
        try await withGracefulShutdownHandler {
            do {
                try await cancelWhenGracefulShutdown {
                    try await startUp()
                    try await watchdog()
                }
            } catch is CancellationError {
                // Graceful shutdown.
            }
        } onGracefulShutdown: { [notifier] in
            notifier?.notify(.stopping)
        }
    }

    private func startUp() async throws {
        if !(await sockets.waitUntilOpen(timeout: Self.socketTimeout)) {
            logger.warning("listening sockets not open in time", metadata: ["pending": "\(sockets.pending)"])
        }
        if let user {
            do {
                let identity = try await host.dropPrivileges(to: user, stateDirectory: stateDirectory)
                logger.notice(
                    "privileges dropped",
                    metadata: [
                        "user": "\(identity.user)", "uid": "\(identity.uid)", "gid": "\(identity.gid)",
                        "groups": "\(identity.groups)", "capabilities": "\(identity.capabilities)",
                    ]
                )
            } catch {
                logger.critical("\(error); stopping rather than running as root")
                throw error
            }
        }
        // Ready once every configured VIP is settled (see `State.isSettled`). Counted from
        // each VIP's state, not from `engine.status()`: a full status of 100,000 VIPs is
        // tens of MB of strings, and the heap kept that size after readiness.
        var vips: [IPAddress]
        switch readiness {
        case .vips(let configured):
            vips = configured
        case .cluster(let coordinator):
            vips = try await Self.firstClaimsSettled(coordinator)
            logger.info("cluster: lease held and first claims settled", metadata: ["owned_vips": "\(vips.count)"])
        }
        while !Task.isCancelled {
            // Cluster mode: ownership may move meanwhile; wait for what this host owns now.
            if case .cluster(let coordinator) = readiness, let owned = await coordinator.settledOwnedVIPs() { vips = owned }
            var settled = 0
            var active = 0
            for vip in vips {
                guard let actor = await engine.actor(for: vip) else { continue }
                let state = await actor.state
                if state.isSettled { settled += 1 }
                if case .active = state { active += 1 }
            }
            if settled == vips.count {
                proxyarpd_release_free_memory()
                logger.info("ready", metadata: ["vips": "\(vips.count)", "active": "\(active)"])
                notifier?.notify(.ready(active: active, of: vips.count))
                return
            }
            try await Task.sleep(for: Self.settlePoll)
        }
    }

    /// Waits until the coordinator's first claims are settled; returns the VIPs it owns then.
    private static func firstClaimsSettled(_ coordinator: ClusterCoordinator) async throws -> [IPAddress] {
        while true {
            if let owned = await coordinator.settledOwnedVIPs() { return owned }
            try await Task.sleep(for: settlePoll)
        }
    }

    /// Every half `WatchdogSec`: `WATCHDOG=1`, only when the engine answered a ping
    /// since the last tick.
    private func watchdog() async throws {
        guard let notifier, let interval = notifier.watchdogInterval else {
            try await gracefulShutdown()
            return
        }
        logger.info("watchdog on", metadata: ["ping": "\(interval)"])
        var missed = 0
        while true {
            let answered = Answered()
            let engine = self.engine
            Task { await engine.ping(); answered.value.store(true, ordering: .releasing) }
            try await Task.sleep(for: interval)
            if answered.value.load(ordering: .acquiring) {
                if missed > 0 { logger.notice("engine answers again", metadata: ["missed": "\(missed)"]) }
                missed = 0
                notifier.notify(.watchdog)
            } else {
                missed += 1
                logger.error("engine did not answer within the watchdog interval; not pinging", metadata: ["missed": "\(missed)"])
            }
        }
    }

    private final class Answered: Sendable {
        let value = Atomic<Bool>(false)
    }
}
