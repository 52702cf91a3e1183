import Logging
import ProxyARPCore
import ProxyARPStateMachines
import ServiceLifecycle

/// The control plane as one service: owns the selector, one actor per adapter and per
/// VIP, and feeds them link events and capture observations until shutdown, when it
/// withdraws every VIP.
///
/// `run()` needs no signals, so tests and embedders call it directly; the daemon puts it
/// in a `ServiceGroup` after the I/O service so that it stops first.
public actor Engine: Service {
    private let environment: EngineEnvironment
    private let links: any LinkEvents
    private let directory = ActorDirectory()
    private let selector: SelectorActor
    private var configuration: DaemonConfiguration
    private var managed: Set<AdapterName>
    private var conflicts = 0
    private var reported: Set<AdapterName> = []
    private let pacer = ActivationPacer(permits: ActivationPacer.defaultPermits)
    private let timers: VIPTimerScheduler
    private let vipContext: VIPActorContext
    private var activations: [UInt64: Task<Void, Never>] = [:]
    private var nextActivation: UInt64 = 0
    private var learnedSegments: Set<[AdapterName]> = []
    private var lastHeard: [AdapterName: Instant] = [:]
    private var vipsStarted = false

    /// How long VIP activation waits for the first report of every managed adapter.
    /// Selecting before all adapters are known would pick agents without knowing their
    /// siblings (and so confirm by transmit only); an adapter that never reports is
    /// treated as down once this passes.
    public static let startupGrace: Duration = .seconds(2)

    /// Creates the engine for `configuration`.
    public init(configuration: DaemonConfiguration, environment: EngineEnvironment, links: any LinkEvents) {
        self.configuration = configuration
        self.environment = environment
        self.links = links
        self.managed = Set(configuration.adapters.map(\.name))
        self.timers = VIPTimerScheduler(clock: environment.clock, directory: directory)
        self.selector = SelectorActor(
            environment: environment, directory: directory, preemptDelay: configuration.timers.preemptDelay
        )
        self.vipContext = VIPActorContext(
            environment: environment, selector: selector, directory: directory, pacer: pacer, scheduler: timers
        )
    }

    /// Runs until the task is cancelled or a graceful shutdown is requested, then
    /// withdraws every VIP.
    public func run() async throws {
        await start()
        let links = self.links
        let io = environment.io
        let clock = environment.clock
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        try await clock.sleep(until: clock.now().advanced(by: Self.startupGrace))
                    } catch {
                        return
                    }
                    await self.startConfiguredVIPs(reason: "startup grace passed")
                }
                group.addTask {
                    for await event in links.events() { await self.handle(event) }
                }
                group.addTask {
                    for await batch in io.observations() { await self.handle(batch) }
                }
                await group.waitForAll()
            }
        }
        await stop()
    }

    /// Every VIP and adapter, for `status`.
    public func status() async -> EngineStatus {
        let counts = await selector.proxyListCounts()
        var adapters: [AdapterStatus] = []
        for actor in directory.allAdapters {
            await adapters.append(actor.status(vipCount: counts[actor.name] ?? 0))
        }
        let actors = directory.allVIPs
        var vips: [VIPStatus] = []
        vips.reserveCapacity(actors.count)
        for actor in actors { await vips.append(actor.status()) }
        vips.sort { $0.vip < $1.vip }  // in place: at 100,000 VIPs a sorted copy is 14 MB more
        return EngineStatus(
            vips: vips, adapters: adapters.sorted { $0.name < $1.name },
            conflicts: conflicts
        )
    }

    /// Answers once the engine and the selector each ran a job: the watchdog's liveness
    /// probe (a stuck control plane never answers, so the daemon stops pinging systemd).
    public func ping() async {
        _ = await selector.proxyListCounts()
    }

    /// The actor of `vip`, for tests and the control socket.
    public func actor(for vip: IPv4Address) -> VIPActor? { directory.vip(vip) }

    /// Applies a new configuration: added VIPs activate, removed ones withdraw, kept ones
    /// keep their agent (their preferences are updated). Adapters are added or dropped.
    /// Timer changes apply to VIPs added from now on.
    @discardableResult
    public func apply(_ newConfiguration: DaemonConfiguration) async -> ReloadSummary {
        let old = Dictionary(configuration.vips.map { ($0.address, $0) }, uniquingKeysWith: { a, _ in a })
        let new = Dictionary(newConfiguration.vips.map { ($0.address, $0) }, uniquingKeysWith: { a, _ in a })
        let removed = old.keys.filter { new[$0] == nil }
        let added = newConfiguration.vips.filter { old[$0.address] == nil }
        let changed = newConfiguration.vips.filter { config in old[config.address].map { $0 != config } ?? false }
        var newConfiguration = newConfiguration
        if newConfiguration.selection != configuration.selection {
            environment.logger.warning(
                "selection.block_prefix_length takes effect at start; keeping the running value",
                metadata: ["running": "\(configuration.selection.blockPrefixLength)",
                           "requested": "\(newConfiguration.selection.blockPrefixLength)"])
            newConfiguration.selection = configuration.selection
        }
        configuration = newConfiguration

        let newAdapters = Set(newConfiguration.adapters.map(\.name))
        for name in managed.subtracting(newAdapters) {
            await directory.adapter(name)?.linkRemoved()
            directory.unregisterAdapter(name)
        }
        for name in newAdapters.subtracting(managed) { await addAdapter(name) }
        managed = newAdapters

        let withdrawn = removed.compactMap { vip -> VIPActor? in
            defer { directory.unregisterVIP(vip) }
            return directory.vip(vip)
        }
        await forEachConcurrently(withdrawn) { await $0.withdraw() }
        let updates = changed.compactMap { config in directory.vip(config.address).map { ($0, config) } }
        await forEachConcurrently(updates) { actor, config in await actor.update(config) }
        if vipsStarted { await startVIPs(added) }
        let summary = ReloadSummary(added: added.count, removed: removed.count, changed: changed.count)
        environment.logger.info(
            "configuration applied",
            metadata: ["added": "\(summary.added)", "removed": "\(summary.removed)", "changed": "\(summary.changed)"]
        )
        return summary
    }

    // MARK: Lifecycle

    private func start() async {
        await selector.groupVIPs(blockPrefixLength: configuration.selection.blockPrefixLength)
        for adapter in configuration.adapters { await addAdapter(adapter.name) }
    }

    private func startConfiguredVIPs(reason: String) async {
        guard !vipsStarted else { return }
        vipsStarted = true
        environment.logger.info(
            "activating VIPs",
            metadata: ["count": "\(configuration.vips.count)", "reason": "\(reason)",
                       "adaptersReported": "\(reported.count)/\(managed.count)"]
        )
        await startVIPs(configuration.vips)
    }

    private func stop() async {
        await pacer.close()
        let running = activations.values
        activations.removeAll()
        for activation in running { activation.cancel() }
        for activation in running { await activation.value }
        let actors = directory.allVIPs
        let keep = !configuration.daemon.removeVIPsOnExit
        environment.logger.info(
            "withdrawing all VIPs", metadata: ["count": "\(actors.count)", "keepOnLoopback": "\(keep)"]
        )
        await forEachConcurrently(actors) { await $0.withdraw(keepLocalAddress: keep) }
        timers.stop()
    }

    private func addAdapter(_ name: AdapterName) async {
        let actor = AdapterActor(
            name: name, settings: AdapterHealthSettings(holdDown: configuration.timers.holdDown),
            environment: environment, selector: selector
        )
        directory.register(actor)
        do {
            try await environment.host.prepare(adapter: name)
        } catch {
            environment.logger.error("preparing adapter failed", metadata: ["adapter": "\(name)", "error": "\(error)"])
        }
    }

    /// Creates the VIPs' actors and starts their activation in the background: the link
    /// and observation loops must not wait for thousands of activations (the pacer lets
    /// ``ActivationPacer/defaultPermits`` announce at once, the others queue there).
    private func startVIPs(_ configs: [VIPConfiguration]) async {
        let settings = SharedVIPActivationSettings(VIPActivationSettings(configuration.timers))
        var actors: [VIPActor] = []
        for config in configs {
            let actor = VIPActor(config: config, settings: settings, context: vipContext)
            directory.register(actor)
            actors.append(actor)
        }
        await selector.watch(all: configs)
        nextActivation += 1
        let id = nextActivation
        activations[id] = Task {
            await forEachConcurrently(actors) { actor in
                guard !Task.isCancelled else { return }  // stopping
                await actor.start()
            }
            activationFinished(id)
        }
    }

    /// Forgets a finished activation's task (a reload starts another).
    private func activationFinished(_ id: UInt64) {
        activations[id] = nil
    }

    // MARK: Inputs

    private func handle(_ event: LinkEvent) async {
        switch event {
        case .changed(let state):
            guard managed.contains(state.name) else { return }
            await directory.adapter(state.name)?.linkChanged(state)
            reported.insert(state.name)
            if reported.isSuperset(of: managed) { await startConfiguredVIPs(reason: "every adapter reported") }
        case .removed(let name):
            guard managed.contains(name) else { return }
            await directory.adapter(name)?.linkRemoved()
            reported.insert(name)
            if reported.isSuperset(of: managed) { await startConfiguredVIPs(reason: "every adapter reported") }
        }
    }

    /// One capture batch: our own announcements go to their VIPs (one delivery per VIP,
    /// MAC and listening adapter, however many forms were heard); conflicts and probes are
    /// logged and counted.
    private func handle(_ batch: [HeardObservation]) async {
        var deliveries: [IPv4Address: [HeardObservation]] = [:]
        struct Heard: Hashable {
            var vip: IPv4Address
            var mac: MACAddress
            var listener: AdapterName
        }
        var seen: Set<Heard> = []
        for heard in batch {
            switch heard.observation {
            case .ownAnnouncement(let vip, let mac):
                if let speaker = directory.adapter(owning: mac), speaker != heard.adapter {
                    await noteHeard(speaker, by: heard.adapter, at: heard.at)
                }
                if seen.insert(Heard(vip: vip, mac: mac, listener: heard.adapter)).inserted {
                    deliveries[vip, default: []].append(heard)
                }
            case .conflict(let vip, let claimedBy):
                conflicts += 1
                ControlPlaneMetrics.conflict()
                environment.logger.warning(
                    "address conflict: another host claims a VIP",
                    metadata: ["vip": "\(vip)", "claimedBy": "\(claimedBy)", "heardOn": "\(heard.adapter)"]
                )
            case .probe(let vip, let from):
                environment.logger.debug("probe for a VIP", metadata: ["vip": "\(vip)", "from": "\(from)"])
            }
        }
        // Handed over without waiting: a confirmation goes on to publish and bind the VIP
        // (netlink round trips), and the capture loop must not wait for that. Only VIPs
        // awaiting confirmation are reported, and the pacer bounds those, so this is bounded.
        for (vip, observations) in deliveries {
            guard let actor = directory.vip(vip) else { continue }
            Task {
                for heard in observations {
                    guard case .ownAnnouncement(_, let mac) = heard.observation else { continue }
                    await actor.announcementSeen(on: heard.adapter, mac: mac, at: heard.at)
                }
            }
        }
    }

    /// `listener` heard a frame `speaker` sent: they share a segment, and `speaker` is not
    /// cut off. Told to the selector once per pair, to the adapter at most every 100 ms.
    private func noteHeard(_ speaker: AdapterName, by listener: AdapterName, at time: Instant) async {
        if learnedSegments.insert([listener, speaker]).inserted {
            await selector.learnSegment(listener, heard: speaker)
        }
        if let last = lastHeard[speaker], time.duration(since: last) < .milliseconds(100) { return }
        lastHeard[speaker] = time
        await directory.adapter(speaker)?.heardBySibling(at: time)
    }
}

/// Everything `status` reports.
public struct EngineStatus: Sendable, Equatable, Codable {
    /// Every VIP, by address.
    public var vips: [VIPStatus]
    /// Every adapter, by name.
    public var adapters: [AdapterStatus]
    /// Address conflicts seen since start.
    public var conflicts: Int
}

/// What a reload changed.
public struct ReloadSummary: Sendable, Equatable, Codable {
    /// VIPs added.
    public var added: Int
    /// VIPs withdrawn.
    public var removed: Int
    /// VIPs whose preferences changed (they keep their agent).
    public var changed: Int

    /// Creates a summary.
    public init(added: Int, removed: Int, changed: Int) {
        self.added = added
        self.removed = removed
        self.changed = changed
    }
}
