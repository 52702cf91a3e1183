import Logging
import ProxyARPCore
import ProxyARPStateMachines

/// One VIP: holds its activation machine and runs the machine's actions: asks the
/// selector for agents, sends gratuitous ARPs, arms timers, publishes itself on its
/// agent's proxy list and binds its outbound path.
///
/// After every `await` the machine is consulted again; events that became stale while
/// the actor was suspended are absorbed by the machine (epochs), never assumed away.
public actor VIPActor {
    // Stored properties are ordered largest alignment first, and counters are 32-bit:
    // with 100,000 VIPs every byte of this object is 100 kB.
    private let context: VIPActorContext
    private var machine: VIPActivationStateMachine
    /// The configuration's preferences, kept apart (a `VIPConfiguration` would repeat the
    /// address and pad to 24 bytes); `config` puts them back together.
    private var preferred: [AdapterName]
    /// The agents to exclude once the queued-for permit arrives.
    private var permitExclusion: Set<AdapterName> = []
    private var timers = ArmedTimers()
    /// When round 1 of the current attempt was first sent.
    private var attemptStartedAt = Instant.zero
    private let createdAt: Instant
    private var failoverStart: Instant?
    private var announcementsSent: UInt32 = 0
    private var announcementsConfirmed: UInt32 = 0
    private var failovers: UInt32 = 0
    /// The VIP.
    public nonisolated let vip: IPv4Address
    private var preempt: Bool
    private var holdsPermit = false
    /// Queued at the pacer; `permitGranted()` comes when the permit is this VIP's.
    private var queuedForPermit = false
    private var selecting = false
    private var selectAgain = false
    private var onLoopback = false
    private var keepsLocalAddress = false

    private var environment: EngineEnvironment { context.environment }
    private var selector: SelectorActor { context.selector }
    private var directory: ActorDirectory { context.directory }
    private var pacer: ActivationPacer { context.pacer }
    private var scheduler: VIPTimerScheduler { context.scheduler }
    private var config: VIPConfiguration { VIPConfiguration(address: vip, preferred: preferred, preempt: preempt) }

    /// Creates the actor with its machine in `pending(awaitingSelection)`.
    /// `settings` are shared by the VIPs the engine starts together.
    init(config: VIPConfiguration, settings: SharedVIPActivationSettings, context: VIPActorContext) {
        self.vip = config.address
        self.preferred = config.preferred
        self.preempt = config.preempt
        self.context = context
        let now = context.environment.clock.now()
        self.createdAt = now
        self.machine = VIPActivationStateMachine(vip: config.address, sharing: settings, now: now)
        context.environment.trace.record(
            .vip(config.address), event: .vipCreated(settings.value), at: now, from: "-",
            to: machine.state.description, action: "none"
        )
        ControlPlaneMetrics.vipState(from: nil, to: machine.state.name)
    }

    // MARK: Events from the engine, the selector and the wire

    /// Starts activation: ask for an agent.
    public func start() async {
        await selector.watch(config)
        await requestAgent(excluding: [])
    }

    /// An adapter became eligible while this VIP waited: try again.
    func retrySelection() async {
        guard case .pending = machine.state else { return }
        await requestAgent(excluding: [])
    }

    /// The pacer's permit, which this VIP queued for, is its now: select an agent, or give
    /// the permit back when the VIP no longer waits for one.
    func permitGranted() async {
        queuedForPermit = false
        holdsPermit = true
        guard case .pending = machine.state else {
            await releasePermit()
            return
        }
        await requestAgent(excluding: permitExclusion)
    }

    /// The agent's adapter failed.
    func agentLost() async {
        await deliver(.agentLost(now: environment.clock.now()))
    }

    /// The selector found a better agent for this `preempt` VIP.
    func preempt(to agent: Agent) async {
        guard let current = machine.state.agent, current.name != agent.name else { return }
        await deliver(.agentSelected(agent, now: environment.clock.now()))
    }

    /// One of our gratuitous ARPs for this VIP was heard on `adapter` while it awaited
    /// confirmation (the answer path reports only those: `AnswerTable.awaitingConfirmation`).
    public func announcementSeen(on adapter: AdapterName, mac: MACAddress, at now: Instant) async {
        await deliver(.announcementSeen(on: adapter, mac: mac, now: now))
    }

    /// Configuration changed preferences or preempt; the agent is kept.
    public func update(_ newConfig: VIPConfiguration) async {
        preferred = newConfig.preferred
        preempt = newConfig.preempt
        await selector.update(newConfig)
    }

    /// The configuration dropped this VIP, or the daemon stops: give everything back.
    /// `keepLocalAddress` leaves the VIP on `lo` (the daemon's `remove_vips_on_exit: false`).
    public func withdraw(keepLocalAddress: Bool = false) async {
        keepsLocalAddress = keepLocalAddress
        await deliver(.withdraw(now: environment.clock.now()))
        await selector.unwatch(vip)
    }

    /// The VIP as `status` shows it.
    public func status() -> VIPStatus {
        let state = machine.state
        var confirmation: String?
        var since = createdAt
        switch state {
        case .pending(let s): since = s.since
        case .broadcast(let s): since = s.firstSentAt
        case .enqueued(let s):
            since = s.confirmedAt
            confirmation = s.confirmation.description
        case .active(let s):
            since = s.since
            confirmation = s.confirmation.description
        case .withdrawn(let s): since = s.since
        case .failed: break
        }
        let agent = state.agent
        return VIPStatus(
            vip: vip, state: state.name, detail: state.description, agent: agent?.name, agentMAC: agent?.mac,
            localAddress: agent?.localAddress, confirmation: confirmation, since: since,
            announcementsSent: Int(announcementsSent), announcementsConfirmed: Int(announcementsConfirmed),
            failovers: Int(failovers)
        )
    }

    /// The current state, for tests and status.
    public var state: VIPActivationStateMachine.State { machine.state }

    // MARK: Machine

    private func deliver(_ event: VIPActivationEvent) async {
        let wasBroadcasting = isBroadcasting
        let fromName = machine.state.name
        let from = machine.state.description
        let now = environment.clock.now()
        let action: VIPActivationStateMachine.Action
        do {
            action = try machine.handle(event)
            // Counted before any suspension: nested deliveries then count their own moves.
            ControlPlaneMetrics.vipState(from: fromName, to: machine.state.name)
        } catch {
            ControlPlaneMetrics.vipState(from: fromName, to: machine.state.name)
            environment.trace.record(
                .vip(vip), event: .vip(event), at: now, from: from, to: machine.state.description,
                action: "unreachable(\(error.event))"
            )
            environment.logger.error("VIP isolated after an internal error", metadata: ["vip": "\(vip)", "error": "\(error)"])
            await isolate()
            return
        }
        environment.trace.record(
            .vip(vip), event: .vip(event), at: now, from: from, to: machine.state.description,
            action: action.description
        )
        if isBroadcasting && !wasBroadcasting {
            // Published before the action sends anything: a sibling may hear the frames
            // before the send returns, and reports them only for VIPs awaiting confirmation.
            // (Entering broadcast, no timer of the new attempt is armed yet, so this
            // suspension cannot let a cancelled timer through.)
            await selector.awaitConfirmation(vip)
        } else if wasBroadcasting && !isBroadcasting, case .enqueued(let enqueued) = machine.state {
            announcementsConfirmed += 1
            ControlPlaneMetrics.announcementConfirmed(agent: enqueued.agent.name)
        }
        // Run the action before any other suspension: it cancels timers the machine no
        // longer expects (a fire slipping in between would be an unreachable transition).
        await run(action, previousState: from)
        // A VIP that retries or moves keeps its permit; one that settled gives it back.
        if wasBroadcasting && !isBroadcasting {
            await selector.stopAwaitingConfirmation(vip)
            await releasePermit()
        }
    }

    private func run(_ action: VIPActivationStateMachine.Action, previousState: String) async {
        switch action {
        case .none:
            return
        case .announce(let announcement, let timer):
            if let timer { schedule(timer) }
            await send(announcement)
        case .move(let withdrawFrom, let announcement, let timer):
            if let withdrawFrom { await selector.withdraw(vip, from: withdrawFrom) }
            schedule(timer)
            await send(announcement)
        case .publish(let agent, let replacing, let cancel):
            cancelTimer(cancel.kind)
            await activate(agent, replacing: replacing, epoch: cancel.epoch)
        case .schedule(let timer):
            schedule(timer)
        case .reselect(let withdrawFrom, let unusable, let cancel):
            cancel.forEach(cancelTimer)
            if let withdrawFrom { await selector.withdraw(vip, from: withdrawFrom) }
            if let unusable {
                let reported = await directory.adapter(unusable)?.announcementsUnconfirmed(since: attemptStartedAt) ?? false
                environment.logger.warning(
                    reported ? "announcements never confirmed; agent unusable" : "announcements never confirmed; trying another agent",
                    metadata: ["vip": "\(vip)", "adapter": "\(unusable)"]
                )
            }
            await requestAgent(excluding: unusable.map { [$0] } ?? [])
        case .release(let withdrawFrom, let unbind, let cancel):
            cancel.forEach(cancelTimer)
            if let withdrawFrom { await selector.withdraw(vip, from: withdrawFrom) }
            await selector.release(vip)
            await releaseHost(unbind: unbind)
        }
    }

    /// Steps 5 and 6: publish on the proxy list, put the VIP on `lo`, bind its outbound
    /// path (make-before-break), then tell the machine.
    private func activate(_ agent: Agent, replacing: AdapterName?, epoch: UInt64) async {
        await selector.enqueue(vip, on: agent.name)
        guard isEnqueued(epoch) else {
            // Withdrawn or moved while we were publishing: take it back off.
            await selector.withdraw(vip, from: agent.name)
            return
        }
        do {
            if !onLoopback {
                try await environment.host.addLocalAddress(vip)
                onLoopback = true
            }
            try await environment.host.bindOutboundPath(of: vip, to: agent.name, replacing: replacing)
        } catch {
            // ARP already answers; traffic from the VIP may leave through another adapter.
            environment.logger.error(
                "binding the outbound path failed",
                metadata: ["vip": "\(vip)", "agent": "\(agent.name)", "error": "\(error)"]
            )
        }
        if case .withdrawn = machine.state {
            // The release ran while we were binding; undo the binding it could not see.
            await releaseHost(unbind: agent.name)
            return
        }
        let startedAt = failoverStart ?? createdAt
        await deliver(.outboundPathBound(agent: agent.name, epoch: epoch, now: environment.clock.now()))
        guard case .active(let active) = machine.state, active.epoch == epoch else { return }
        let took = environment.clock.now().duration(since: startedAt)
        if replacing != nil || failoverStart != nil {
            failovers += 1
            ControlPlaneMetrics.failedOver(took: took)
        } else {
            ControlPlaneMetrics.activated(took: took)
        }
        environment.logger.info(
            replacing == nil && failoverStart == nil ? "VIP active" : "VIP failed over",
            metadata: [
                "vip": "\(vip)", "agent": "\(agent.name)", "mac": "\(agent.mac)",
                "previous": "\(replacing?.rawValue ?? "-")", "confirmation": "\(active.confirmation)",
                "took": "\(took)",
            ]
        )
        failoverStart = nil
    }

    private func isEnqueued(_ epoch: UInt64) -> Bool {
        if case .enqueued(let enqueued) = machine.state, enqueued.epoch == epoch { return true }
        return false
    }

    private func requestAgent(excluding: Set<AdapterName>) async {
        guard !selecting else {
            selectAgain = true
            return
        }
        // Queued for a permit: `permitGranted()` selects when this VIP's turn comes.
        guard !queuedForPermit else { return }
        selecting = true
        defer { selecting = false }
        repeat {
            selectAgain = false
            guard case .pending = machine.state else { return }
            if !holdsPermit {
                // Marked queued before the hop: the grant may arrive while this waits.
                queuedForPermit = true
                permitExclusion = excluding
                if await pacer.acquire(for: self) {
                    queuedForPermit = false
                    holdsPermit = true
                } else if !holdsPermit {
                    return  // queued (or stopping): no task waits for the turn
                }
            }
            guard case .pending(let pending) = machine.state else {
                await releasePermit()
                return
            }
            if case .agentLost = pending.reason, failoverStart == nil { failoverStart = pending.since }
            if case .agentUnconfirmed = pending.reason, failoverStart == nil { failoverStart = pending.since }
            let agent = await selector.select(config, excluding: excluding)
            guard case .pending = machine.state else {
                if case .withdrawn = machine.state { await selector.release(vip) }
                await releasePermit()
                return
            }
            if let agent {
                await deliver(.agentSelected(agent, now: environment.clock.now()))
            } else {
                await releasePermit()
                await deliver(.noAgentAvailable(now: environment.clock.now()))
            }
        } while selectAgain
    }

    private func send(_ announcement: Announcement) async {
        let agent = announcement.agent
        let frames = [
            ARPFrames.gratuitousRequest(mac: agent.mac, vip: announcement.vip),
            ARPFrames.gratuitousReply(mac: agent.mac, vip: announcement.vip),
        ]
        let adapter = directory.adapter(agent.name)
        if announcement.round == 1 && announcement.retransmission == 0 { attemptStartedAt = environment.clock.now() }
        do {
            try await environment.io.send(frames, on: agent.name)
        } catch {
            environment.logger.warning("announcement not sent", metadata: ["vip": "\(vip)", "error": "\(error)"])
            ControlPlaneMetrics.announcementFailed(on: agent.name)
            await adapter?.transmitFailed()
            return
        }
        announcementsSent += 1
        ControlPlaneMetrics.announcementSent(on: agent.name)
        await adapter?.transmitSucceeded()
        if announcement.round == 1 {
            await deliver(
                .announcementTransmitted(agent: agent.name, epoch: announcement.epoch, now: environment.clock.now())
            )
        }
    }

    private func releaseHost(unbind: AdapterName?) async {
        do {
            if let unbind { try await environment.host.unbindOutboundPath(of: vip, from: unbind) }
            if onLoopback && !keepsLocalAddress {
                try await environment.host.removeLocalAddress(vip)
                onLoopback = false
            }
        } catch {
            environment.logger.error("releasing host state failed", metadata: ["vip": "\(vip)", "error": "\(error)"])
        }
    }

    private var isBroadcasting: Bool {
        if case .broadcast = machine.state { return true }
        return false
    }

    /// Gives the announcement permit back, if held.
    private func releasePermit() async {
        guard holdsPermit else { return }
        holdsPermit = false
        await pacer.release()
    }

    /// A bug isolated this VIP: stop answering for it and hold nothing.
    private func isolate() async {
        await selector.stopAwaitingConfirmation(vip)
        await releasePermit()
        for kind in VIPTimerKind.allCases { cancelTimer(kind) }
        for name in directory.allAdapters.map(\.name) { await selector.withdraw(vip, from: name) }
        await selector.release(vip)
    }

    // MARK: Timers

    private func schedule(_ timer: ScheduledTimer) {
        cancelTimer(timer.id.kind)
        timers[timer.id.kind] = scheduler.schedule(timer, for: vip)
    }

    private func cancelTimer(_ kind: VIPTimerKind) {
        guard let token = timers[kind] else { return }
        timers[kind] = nil
        scheduler.cancel(token)
    }

    /// A timer woke (``VIPTimerScheduler``). One cancelled after it woke but before it got
    /// here is dropped: the machine must only see fires of timers that are still armed.
    func timerFired(_ id: VIPTimerID, token: UInt64) async {
        guard timers[id.kind] == token else { return }
        timers[id.kind] = nil
        await deliver(.timerFired(id, now: environment.clock.now()))
    }
}
