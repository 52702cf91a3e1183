import Logging
import ProxyARPCore
import ProxyARPStateMachines
import ServiceLifecycle

/// The control plane as one service: owns the selector, one actor per adapter and per
/// VIP, and the one task group in which all of them are driven until shutdown, when it
/// withdraws every VIP.
///
/// **One task group, one input stream.** `run()` owns a discarding task group; every
/// producer (the link and capture feeders, the selector's decision passes, the timers)
/// posts to one ``EngineMailbox``, and the run loop turns each input into work: link
/// events are handled in order (adapter, then selector: one synchronous pass), while
/// deliveries to VIPs (decisions, confirmations, timer fires) become child tasks, so the
/// loop never waits for a wave of VIPs. Nothing of the engine outlives `run()`:
/// shutdown finishes the mailbox (later posts are dropped and counted), the group's
/// children end, and the VIPs are withdrawn before `run()` returns.
///
/// `run()` needs no signals, so tests and embedders call it directly; the daemon puts it
/// in a `ServiceGroup` after the I/O service so that it stops first.
public actor Engine: Service {
    private let environment: EngineEnvironment
    private let links: any LinkEvents
    private let directory = ActorDirectory()
    private let mailbox = EngineMailbox()
    private let timers: EngineTimers
    private let selector: SelectorActor
    private let vipContext: VIPActorContext
    private var configuration: DaemonConfiguration
    private var managed: Set<AdapterName>
    private var reported: Set<AdapterName> = []
    /// The last link state of each managed adapter that exists: tells a re-created adapter
    /// (a new ifindex) and an address change from other updates.
    private var knownLinks: [AdapterName: LinkState] = [:]
    /// Managed adapters deleted and not re-created yet.
    private var deleted: Set<AdapterName> = []
    /// Re-created adapters whose capture is not open yet: libpcap cannot open a link that
    /// is down (a new link starts down), so it is tried at each report until it opens.
    private var capturesToOpen: Set<AdapterName> = []
    private var learnedSegments: Set<[AdapterName]> = []
    private var lastHeard: [AdapterName: Instant] = [:]
    private var vipsStarted = false
    /// Probe rounds under way: the VIPs of each, waiting to be admitted.
    private var probeRounds: [UInt64: [VIPConfiguration]] = [:]
    private var nextProbeRound: UInt64 = 0
    /// VIPs of a round under way, and those of them another host answered for.
    private var probing = VIPAddressSet()
    private var probeAnswered: Set<IPAddress> = []
    /// Agents an earlier instance left VIPs bound to (found by the reconcile at start), for
    /// the first activation of those VIPs: they skip the probe and prefer that agent.
    private var previousAgents: [IPAddress: AdapterName] = [:]

    /// How long VIP activation waits for the first report of every managed adapter.
    /// Selecting before all adapters are known would pick agents without knowing their
    /// siblings (and so confirm by transmit only); an adapter that never reports is
    /// treated as down once this passes.
    public static let startupGrace: Duration = .seconds(2)

    /// How many deliveries to VIPs run at once when a pass decides for many.
    static let deliveryWidth = SelectorActor.defaultPermits

    /// Creates the engine for `configuration`; at most `announcingAtOnce` VIPs announce at
    /// once (see ``SelectorActor``).
    public init(
        configuration: DaemonConfiguration, environment: EngineEnvironment, links: any LinkEvents,
        announcingAtOnce: Int = SelectorActor.defaultPermits
    ) {
        self.configuration = configuration
        self.environment = environment
        self.links = links
        self.managed = Set(configuration.adapters.map(\.name))
        self.timers = EngineTimers(mailbox: mailbox)
        self.selector = SelectorActor(
            environment: environment, directory: directory, mailbox: mailbox, timers: timers,
            preemptDelay: configuration.timers.preemptDelay, permits: announcingAtOnce
        )
        self.vipContext = VIPActorContext(environment: environment, selector: selector, directory: directory, timers: timers)
    }

    /// Runs until the task is cancelled or a graceful shutdown is requested, then
    /// withdraws every VIP. Nothing the engine started runs after it returns.
    public func run() async throws {
        await start()
        let links = self.links
        let io = environment.io
        let clock = environment.clock
        let mailbox = self.mailbox
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await event in links.events() { mailbox.post(.link(event)) }
            }
            group.addTask {
                for await batch in io.observations() { mailbox.post(.observations(batch)) }
            }
            let (activations, logger) = (environment.activations, environment.logger)
            group.addTask {
                // The tail of each second's activations (bounded: ends with the group's cancellation).
                while !Task.isCancelled {
                    try? await Task.sleep(for: activations.interval)
                    activations.flush(logger: logger)
                }
            }
            group.addTask {
                do { try await clock.sleep(until: clock.now().advanced(by: Self.startupGrace)) } catch { return }
                mailbox.post(.startupGraceElapsed)
            }
            await withTaskCancellationHandler {
                await withGracefulShutdownHandler {
                    for await input in mailbox.inputs { await self.handle(input, in: &group) }
                } onGracefulShutdown: {
                    mailbox.finish()
                }
            } onCancel: {
                mailbox.finish()
            }
            // The mailbox is finished: no timer fires any more, the VIPs are withdrawn
            // (what the feeders still post meanwhile is dropped and counted), then the
            // feeders and sleepers are cancelled and the group waits for its children.
            timers.stop()
            await stop()
            group.cancelAll()
        }
    }

    /// Every VIP and adapter, for `status`.
    public func status() async -> EngineStatus {
        let adapters = await adapterStatuses()
        let actors = directory.allVIPs
        var vips: [VIPStatus] = []
        vips.reserveCapacity(actors.count)
        for actor in actors { await vips.append(actor.status()) }
        vips.sort { $0.vip < $1.vip }  // in place: at 100,000 VIPs a sorted copy is 14 MB more
        return EngineStatus(
            vips: vips, adapters: adapters.sorted { $0.name < $1.name },
            conflicts: vips.reduce(0) { $0 + $1.conflicts }
        )
    }

    private func adapterStatuses() async -> [AdapterStatus] {
        let counts = await selector.proxyListCounts()
        var adapters: [AdapterStatus] = []
        for actor in directory.allAdapters {
            await adapters.append(actor.status(vipCount: counts[actor.name] ?? 0))
        }
        return adapters
    }

    /// Every VIP's state name and agent, by address: what a `status` summary counts. Read
    /// from the board the VIP actors publish to, in one lock (no hop per VIP).
    public func briefs() -> [VIPBrief] { vipContext.board.all }

    /// True when at least one managed adapter can serve: eligible, or held down with its link
    /// up (``AdapterHealthStateMachine/hasUsableLink``). Cluster mode releases every unit when
    /// none can, so only a real loss of every link (carrier, admin down, removed) counts: a
    /// hold-down after unconfirmed announcements, e.g. when the host's own announcement
    /// burst outran the confirmations, must not hand every unit of the host to another one
    /// (which then meets the same burst).
    public func hasEligibleAdapter() async -> Bool {
        for actor in directory.allAdapters where await actor.hasUsableLink { return true }
        return false
    }

    /// Every adapter, and the VIPs given (those configured, in the order given), for a
    /// `status` that lists some VIPs only. `conflicts` counts over the VIPs given.
    public func status(of addresses: [IPAddress]) async -> EngineStatus {
        let adapters = await adapterStatuses()
        var vips: [VIPStatus] = []
        for address in addresses {
            if let actor = directory.vip(address) { await vips.append(actor.status()) }
        }
        return EngineStatus(
            vips: vips, adapters: adapters.sorted { $0.name < $1.name }, conflicts: vips.reduce(0) { $0 + $1.conflicts }
        )
    }

    /// Answers once the engine and the selector each ran a job: the watchdog's liveness
    /// probe (a stuck control plane never answers, so the daemon stops pinging systemd).
    public func ping() async {
        _ = await selector.proxyListCounts()
    }

    /// The actor of `vip`, for tests and the control socket.
    public func actor(for vip: IPAddress) -> VIPActor? { directory.vip(vip) }

    /// Inputs posted after the engine stopped, dropped (for tests and metrics).
    public nonisolated var droppedInputs: Int { mailbox.droppedCount }

    /// Timers armed and not yet fired or cancelled (for tests).
    public nonisolated var armedTimers: Int { timers.armedCount }

    /// VIPs announcing now and VIPs queued for their turn (for tests and status).
    public func announcementLoad() async -> (announcing: Int, queued: Int) { await selector.load }

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
            knownLinks[name] = nil
            deleted.remove(name)
            capturesToOpen.remove(name)
        }
        for name in newAdapters.subtracting(managed) { await addAdapter(name) }
        managed = newAdapters

        let withdrawn = removed.compactMap { vip -> VIPActor? in
            defer {
                directory.unregisterVIP(vip)
                vipContext.board.remove(vip)
            }
            return directory.vip(vip)
        }
        await forEachConcurrently(withdrawn) { await $0.withdraw() }
        for config in changed { await selector.update(config) }
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
        await reconcileHost()
    }

    /// Takes over what an earlier instance left in the kernel (see
    /// ``HostNetworking/reconcile(vips:adapters:)``): the VIPs whose rule was kept remember
    /// their agent. A failure is logged; the VIPs then start as on a clean host.
    private func reconcileHost() async {
        do {
            let found = try await environment.host.reconcile(
                vips: AddressSet(configuration.vips.lazy.compactMap(\.address.ipv4)), adapters: configuration.adapters.map(\.name))
            previousAgents = found.previousAgents
        } catch {
            environment.logger.error("reconciling what an earlier instance left failed", metadata: ["error": "\(error)"])
        }
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
        await selector.close()
        let actors = directory.allVIPs
        let keep = !configuration.daemon.removeVIPsOnExit
        environment.logger.info(
            "withdrawing all VIPs", metadata: ["count": "\(actors.count)", "keepOnLoopback": "\(keep)"]
        )
        await forEachConcurrently(actors) { await $0.withdraw(keepLocalAddress: keep) }
        if mailbox.droppedCount > 0 {
            environment.logger.debug("inputs dropped at shutdown", metadata: ["count": "\(mailbox.droppedCount)"])
        }
    }

    private func addAdapter(_ name: AdapterName) async {
        let actor = AdapterActor(
            name: name, settings: AdapterHealthSettings(holdDown: configuration.timers.holdDown),
            environment: environment, selector: selector, timers: timers
        )
        directory.register(actor)
        do {
            try await environment.host.prepare(adapter: name)
        } catch {
            environment.logger.error("preparing adapter failed", metadata: ["adapter": "\(name)", "error": "\(error)"])
        }
    }

    /// Creates the VIPs' actors and hands them to the selector, which gives them agents
    /// at the pace of its permits (the others queue there, holding no task). First, unless
    /// `conflicts.probe_wait` is 0, one probe round: a probe per VIP out of the adapter that
    /// would serve it (RFC 5227 for IPv4; for IPv6 a Duplicate Address Detection solicitation
    /// from `::` with a nonce, RFC 4862 §5.4.2), one wait for the whole round (not per VIP: 100,000
    /// VIPs probe in one wait), and only the VIPs nobody answered for are admitted. VIPs an
    /// earlier instance left bound (a restart) are ours already: admitted at once, with
    /// their previous agent as the selection's hint, and not probed.
    private func startVIPs(_ configs: [VIPConfiguration]) async {
        let settings = SharedVIPActivationSettings(VIPActivationSettings(configuration.timers, conflicts: configuration.conflicts))
        for config in configs {
            directory.register(VIPActor(vip: config.address, settings: settings, context: vipContext))
        }
        var configs = configs
        if !previousAgents.isEmpty {
            let hints = previousAgents
            previousAgents = [:]
            let adopted = configs.filter { hints[$0.address] != nil }
            configs.removeAll { hints[$0.address] != nil }
            await selector.admit(adopted, previousAgents: hints)
        }
        guard configuration.conflicts.probeWait > .zero, !configs.isEmpty else {
            await selector.admit(configs)
            return
        }
        let plan = await selector.watchForProbing(configs)
        nextProbeRound += 1
        probeRounds[nextProbeRound] = configs
        for config in configs { probing.insert(config.address) }
        mailbox.post(
            .probe(round: nextProbeRound, plan: plan.map { ProbePlanEntry(adapter: $0.key, mac: $0.value.mac, vips: $0.value.vips) })
        )
    }

    /// A probe round's wait is over: the VIPs nobody answered for go to the selector; the
    /// others learn that their probe was answered.
    private func probeRoundElapsed(_ round: UInt64, in group: inout DiscardingTaskGroup) async {
        guard let configs = probeRounds.removeValue(forKey: round) else { return }
        var clean: [VIPConfiguration] = []
        var answered: [VIPActor] = []
        for config in configs {
            probing.remove(config.address)
            guard directory.vip(config.address) != nil else { continue }  // withdrawn by a reload meanwhile
            if probeAnswered.remove(config.address) != nil {
                if let actor = directory.vip(config.address) { answered.append(actor) }
            } else {
                clean.append(config)
            }
        }
        if !answered.isEmpty {
            environment.logger.warning(
                "probe answered by another host: VIPs not claimed", metadata: ["count": "\(answered.count)"])
            group.addTask { await forEachConcurrently(answered) { await $0.probeLost() } }
        }
        await selector.admit(clean)
    }

    // MARK: Inputs

    /// One input of the run loop. Link events and observations are handled in order; work
    /// for VIPs goes to child tasks of `group`.
    private func handle(_ input: EngineInput, in group: inout DiscardingTaskGroup) async {
        switch input {
        case .link(let event):
            await handle(event)
        case .observations(let batch):
            for (actor, heard) in await handle(batch) {
                group.addTask {
                    for sighting in heard {
                        switch sighting.observation {
                        case .ownAnnouncement(_, let mac): await actor.announcementSeen(on: sighting.adapter, mac: mac, at: sighting.at)
                        case .conflict(_, let claimant): await actor.claimSeen(by: claimant, at: sighting.at)
                        case .probe: break
                        }
                    }
                }
            }
        case .decisions(let decisions):
            let directory = self.directory
            group.addTask {
                await forEachConcurrently(decisions, width: Self.deliveryWidth) { decision in
                    await directory.vip(decision.vip)?.decided(decision)
                }
            }
        case .sleep(let deadline):
            let clock = environment.clock
            let mailbox = self.mailbox
            group.addTask {
                do { try await clock.sleep(until: deadline) } catch { return }
                mailbox.post(.timersDue(sleeperDeadline: deadline))
            }
        case .timersDue(let deadline):
            for due in timers.fireDue(sleeperDeadline: deadline, now: environment.clock.now()) { fire(due, in: &group) }
        case .startupGraceElapsed:
            await startConfiguredVIPs(reason: "startup grace passed")
        case .probe(let round, let plan):
            let io = environment.io
            let clock = environment.clock
            let mailbox = self.mailbox
            let wait = configuration.conflicts.probeWait
            group.addTask {
                for entry in plan {
                    let frames = entry.vips.map { vip in
                        switch vip {
                        case .v4(let address): ARPFrames.probe(mac: entry.mac, vip: address)
                        case .v6(let address): NDPFrames.duplicateAddressProbe(mac: entry.mac, vip: address, nonce: .random(in: 0...UInt64.max))
                        }
                    }
                    try? await io.send(frames, on: entry.adapter)
                }
                do { try await clock.sleep(until: clock.now().advanced(by: wait)) } catch { return }
                mailbox.post(.probeRoundElapsed(round: round))
            }
        case .probeRoundElapsed(let round):
            await probeRoundElapsed(round, in: &group)
        }
    }

    private func fire(_ due: DueTimer, in group: inout DiscardingTaskGroup) {
        switch due.target {
        case .vip(let vip, let id):
            guard let actor = directory.vip(vip) else { return }
            group.addTask { await actor.timerFired(id, token: due.token) }
        case .holdDown(let name, let epoch):
            guard let actor = directory.adapter(name) else { return }
            group.addTask { await actor.holdDownExpired(epoch: epoch, token: due.token) }
        case .preemptCheck(let vip):
            let selector = self.selector
            group.addTask { await selector.preemptCheck(vip, token: due.token) }
        }
    }

    /// One link event, in order. A deleted adapter gives its VIPs up at once (they fail over)
    /// and its capture is closed; one that appears again (after a removal, or under a new
    /// ifindex) is set up again from scratch before its actor hears of it, and its health
    /// machine holds it down before it is eligible. An address change rewrites the agent
    /// table its VIPs' rules point to.
    private func handle(_ event: LinkEvent) async {
        switch event {
        case .changed(let state):
            guard managed.contains(state.name) else { return }
            let previous = knownLinks[state.name]
            if let previous, previous.index != state.index, !deleted.contains(state.name) {
                // A removal the monitor never reported (the old ifindex is gone all the same).
                await adapterDeleted(state.name)
            }
            let recreated = deleted.contains(state.name)
            if recreated { await setUpAgain(state) }
            if capturesToOpen.contains(state.name), state.adminUp { await reopenCapture(of: state.name) }
            knownLinks[state.name] = state
            await directory.adapter(state.name)?.linkChanged(state)
            if !recreated, let previous, previous.interfaces != state.interfaces || previous.ipv6Prefixes != state.ipv6Prefixes {
                await addressesChanged(state, from: previous)
            }
            reported.insert(state.name)
        case .removed(let name):
            guard managed.contains(name) else { return }
            await adapterDeleted(name)
            reported.insert(name)
        }
        if reported.isSuperset(of: managed) { await startConfiguredVIPs(reason: "every adapter reported") }
    }

    /// `name` was deleted: its VIPs fail over now (the selector drops its proxy list and
    /// publishes a table without it), then its capture is closed.
    private func adapterDeleted(_ name: AdapterName) async {
        deleted.insert(name)
        capturesToOpen.remove(name)
        knownLinks[name] = nil
        environment.logger.warning("adapter deleted: its VIPs move, its capture is closed", metadata: ["adapter": "\(name)"])
        await directory.adapter(name)?.linkRemoved()
        await environment.io.closeCapture(on: name)
    }

    /// `state.name` exists again after a deletion: sysctls and agent table from scratch, as
    /// at start, and its capture (MAC read again) as soon as the link is up. Each failure is
    /// logged; the health machine still holds the adapter down before it may serve.
    private func setUpAgain(_ state: LinkState) async {
        let name = state.name
        deleted.remove(name)
        environment.logger.info(
            "adapter re-created: setting it up again",
            metadata: ["adapter": "\(name)", "index": "\(state.index)", "mac": "\(state.mac)"])
        do {
            try await environment.host.prepare(adapter: name)
            try await environment.host.refreshAgentTable(of: name)
        } catch {
            environment.logger.error("preparing re-created adapter failed", metadata: ["adapter": "\(name)", "error": "\(error)"])
        }
        capturesToOpen.insert(name)
    }

    /// Opens the capture of the re-created `name`; on failure it is tried again at the
    /// adapter's next link report.
    private func reopenCapture(of name: AdapterName) async {
        do {
            try await environment.io.openCapture(on: name)
            capturesToOpen.remove(name)
        } catch {
            environment.logger.warning(
                "reopening the capture failed; trying again at the next link change",
                metadata: ["adapter": "\(name)", "error": "\(error)"])
        }
    }

    /// `state.name`'s IPv4 addresses changed: its agent table is rewritten from them, so
    /// the rules of the VIPs bound to it follow; the selector already saw the new
    /// addresses through the actor (same-subnet preference) and tells its VIPs their new
    /// local address.
    private func addressesChanged(_ state: LinkState, from previous: LinkState) async {
        environment.logger.info(
            "adapter addresses changed: rebinding its VIPs",
            metadata: ["adapter": "\(state.name)", "from": "\(previous.interfaces)", "to": "\(state.interfaces)"])
        do {
            try await environment.host.refreshAgentTable(of: state.name)
        } catch {
            environment.logger.error("rewriting the agent table failed", metadata: ["adapter": "\(state.name)", "error": "\(error)"])
        }
        await selector.agentAddressesChanged(state.name)
    }

    /// One capture batch: what each VIP must hear of it, in order: our own announcements
    /// (one per VIP, MAC and listening adapter, however many forms were heard) and foreign
    /// claims (one per VIP and claimant: the machine also merges sightings of one frame by
    /// several adapters across batches, and rate-limits the log). Probes are logged at debug.
    private func handle(_ batch: [HeardObservation]) async -> [(VIPActor, [HeardObservation])] {
        var deliveries: [IPAddress: [HeardObservation]] = [:]
        struct Heard: Hashable {
            var vip: IPAddress
            var mac: MACAddress
            var listener: AdapterName?
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
            case .conflict(let vip, let claimant):
                if probing.contains(vip) { probeAnswered.insert(vip) }
                if seen.insert(Heard(vip: vip, mac: claimant, listener: nil)).inserted {
                    deliveries[vip, default: []].append(heard)
                }
            case .probe(let vip, let from):
                environment.logger.debug("probe for a VIP", metadata: ["vip": "\(vip)", "from": "\(from)"])
            }
        }
        return deliveries.compactMap { vip, heard in directory.vip(vip).map { ($0, heard) } }
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
    /// Foreign claims counted since start, over the VIPs configured now.
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
