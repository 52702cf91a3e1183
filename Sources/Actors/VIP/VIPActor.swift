import Logging
import ProxyARPCore
import ProxyARPStateMachines

/// One VIP: holds its activation machine and runs the machine's actions, nothing else.
/// Every input becomes a machine event; `run(_:)` is a flat switch over the action the
/// machine returned (as postgres-nio's `PostgresChannelHandler.run`). The actor keeps no
/// control flags: what it must remember between events is machine state. Its other
/// fields are counters for `status` and the tokens of its armed timers.
///
/// It never asks the selector for an agent and waits: the selector decides and posts
/// (``VIPDecision``); a VIP only reports what happened to it (confirmed and publishing,
/// unconfirmed, withdrawn).
public actor VIPActor {
    // Stored properties are ordered largest alignment first, and counters are 32-bit:
    // with 100,000 VIPs every byte of this object is 100 kB.
    private let context: VIPActorContext
    private var machine: VIPActivationStateMachine
    private var timers = ArmedTimers()
    private var announcementsSent: UInt32 = 0
    private var conflictsSeen: UInt32 = 0
    private var announcementsConfirmed: UInt32 = 0
    private var failovers: UInt32 = 0
    /// Whether this VIP counts in the contested gauge (a mirror of the machine's contest,
    /// kept so the gauge moves exactly once each way).
    private var wasContested = false
    /// The VIP.
    public nonisolated let vip: IPAddress

    private var environment: EngineEnvironment { context.environment }

    /// Creates the actor with its machine in `pending(awaitingSelection)`.
    /// `settings` are shared by the VIPs the engine starts together.
    init(vip: IPAddress, settings: SharedVIPActivationSettings, context: VIPActorContext) {
        self.vip = vip
        self.context = context
        let now = context.environment.clock.now()
        self.machine = VIPActivationStateMachine(vip: vip, sharing: settings, now: now)
        context.environment.trace.record(
            .vip(vip), event: .vipCreated(settings.value), at: now, from: "-",
            to: machine.state.description, action: "none"
        )
        ControlPlaneMetrics.vipState(from: nil, to: machine.state.name, family: vip.family)
        context.board.add(VIPBrief(vip: vip, state: machine.state.name, agent: machine.state.agent?.name, conflicts: 0))
    }

    // MARK: Inputs

    /// The selector decided for this VIP.
    func decided(_ decision: VIPDecision) async {
        await deliver(decision.event(now: environment.clock.now()))
    }

    /// One of our gratuitous ARPs for this VIP was heard on `adapter` while it awaited
    /// confirmation (the answer path reports only those: `AnswerTable.awaitingConfirmation`).
    public func announcementSeen(on adapter: AdapterName, mac: MACAddress, at now: Instant) async {
        await deliver(.announcementSeen(on: adapter, mac: mac, now: now))
    }

    /// A capture saw another host claim this VIP (`mac` is not ours).
    func claimSeen(by mac: MACAddress, at now: Instant) async {
        await deliver(.claimSeen(by: mac, now: now))
    }

    /// Another host answered the probe sent before this VIP's first activation.
    func probeLost() async {
        await deliver(.probeLost(now: environment.clock.now()))
    }

    /// The configuration dropped this VIP, or the daemon stops: give everything back.
    /// `keepLocalAddress` leaves the VIP on `lo` (the daemon's `remove_vips_on_exit: false`).
    public func withdraw(keepLocalAddress: Bool = false) async {
        await deliver(.withdraw(keepLocalAddress: keepLocalAddress, now: environment.clock.now()))
    }

    /// A timer came due (``EngineTimers``). One cancelled after it came due but before it
    /// got here is dropped: the machine must only see fires of timers that are still armed.
    func timerFired(_ id: VIPTimerID, token: UInt64) async {
        guard timers[id.kind] == token else { return }
        timers[id.kind] = nil
        await deliver(.timerFired(id, now: environment.clock.now()))
    }

    /// The VIP as `status` shows it.
    public func status() -> VIPStatus {
        let state = machine.state
        var confirmation: String?
        var since = machine.createdAt
        switch state {
        case .pending(let s): since = s.since
        case .broadcast(let s): since = s.firstSentAt
        case .enqueued(let s):
            since = s.confirmedAt
            confirmation = s.confirmation.description
        case .active(let s):
            since = s.since
            confirmation = s.confirmation.description
        case .conflict(let s): since = s.since
        case .withdrawn(let s): since = s.since
        case .failed: break
        }
        let contest = machine.conflicts.contest.map { VIPConflictStatus(claimedBy: $0.claimedBy, since: $0.since) }
        let agent = state.agent
        return VIPStatus(
            vip: vip, state: state.name, detail: state.description, agent: agent?.name, agentMAC: agent?.mac,
            localAddress: agent?.localAddress, confirmation: confirmation, since: since,
            announcementsSent: Int(announcementsSent), announcementsConfirmed: Int(announcementsConfirmed),
            failovers: Int(failovers), conflict: contest, conflicts: Int(conflictsSeen)
        )
    }

    /// The state's name and the agent, for a `status` summary (no text built).
    public func brief() -> VIPBrief {
        VIPBrief(vip: vip, state: machine.state.name, agent: machine.state.agent?.name, conflicts: Int(conflictsSeen))
    }

    /// The current state, for tests and status.
    public var state: VIPActivationStateMachine.State { machine.state }

    // MARK: Machine

    private func deliver(_ event: VIPActivationEvent) async {
        let fromName = machine.state.name
        let from = machine.state.description
        let now = environment.clock.now()
        let action: VIPActivationStateMachine.Action
        do {
            action = try machine.handle(event)
        } catch {
            ControlPlaneMetrics.vipState(from: fromName, to: machine.state.name, family: vip.family)
            context.board.publish(brief())
            environment.trace.record(
                .vip(vip), event: .vip(event), at: now, from: from, to: machine.state.description,
                action: "unreachable(\(error.event))"
            )
            environment.logger.error("VIP isolated after an internal error", metadata: ["vip": "\(vip)", "error": "\(error)"])
            await isolate()
            return
        }
        // Counted before any suspension: nested deliveries then count their own moves.
        ControlPlaneMetrics.vipState(from: fromName, to: machine.state.name, family: vip.family)
        context.board.publish(brief())
        environment.trace.record(
            .vip(vip), event: .vip(event), at: now, from: from, to: machine.state.description,
            action: action.description
        )
        await run(action)
    }

    /// Performs `action`. Timers are cancelled and armed before the first suspension, so
    /// no fire of a timer the machine no longer expects can slip in.
    private func run(_ action: VIPActivationStateMachine.Action) async {
        switch action {
        case .none:
            return
        case .announce(let announcement, let timer):
            if let timer { schedule(timer) }
            await send(announcement)
        case .move(let announcement, let cancel):
            cancel.forEach(cancelTimer)
            await send(announcement)
        case .publish(let publication):
            cancelTimer(publication.cancel.kind)
            announcementsConfirmed += 1
            ControlPlaneMetrics.announcementConfirmed(agent: publication.agent.name, family: vip.family)
            await publish(publication)
        case .activated(let activation):
            if let timer = activation.timer { schedule(timer) }
            report(activation)
        case .requestAgent(let reselection):
            let adapter = context.directory.adapter(reselection.unusable)
            let reported = await adapter?.announcementsUnconfirmed(since: reselection.attemptStartedAt) ?? false
            environment.logger.warning(
                reported ? "announcements never confirmed; agent unusable" : "announcements never confirmed; trying another agent",
                metadata: ["vip": "\(vip)", "adapter": "\(reselection.unusable)"]
            )
            await context.selector.request(vip, excluding: reselection.unusable)
        case .cancelTimers(let kinds):
            kinds.forEach(cancelTimer)
        case .release(let release):
            release.cancel.forEach(cancelTimer)
            if machine.conflicts.contest != nil || wasContested { setContested(false) }
            await context.selector.release(vip)
            await releaseHost(release)
        case .schedule(let timer):
            schedule(timer)
        case .conflict(let response):
            await respond(to: response)
        case .conflictCleared:
            setContested(false)
            environment.logger.info("address conflict over: no claim for a defend interval", metadata: ["vip": "\(vip)"])
        case .rejoin:
            setContested(false)
            environment.logger.info("no claim since the VIP yielded: activating it again", metadata: ["vip": "\(vip)"])
            await context.selector.rejoin(vip)
        }
    }

    /// One counted foreign claim: defend, report, or yield, as the machine decided.
    private func respond(to response: ConflictResponse) async {
        conflictsSeen += 1
        context.board.publish(brief())
        ControlPlaneMetrics.conflict()
        if let timer = response.timer { schedule(timer) }
        setContested(response.contested)
        let outcome = response.yield != nil ? "yielded" : response.defend != nil ? "defended" : response.contested ? "contested" : "noted"
        if let suppressed = response.logSuppressed {
            environment.logger.warning(
                "address conflict: another host claims a VIP",
                metadata: [
                    "vip": "\(vip)", "claimedBy": "\(response.claimedBy)", "outcome": "\(outcome)",
                    "policy": "\(machine.settings.conflicts.policy.rawValue)", "suppressed": "\(suppressed)",
                ])
        }
        if let defence = response.defend {
            ControlPlaneMetrics.defended()
            await send(defence)
        }
        if let release = response.yield {
            ControlPlaneMetrics.yielded()
            release.cancel.forEach(cancelTimer)
            await context.selector.yield(vip)
            await releaseHost(release)
        }
    }

    /// Keeps the `proxyarpd_vips_contested` gauge in step with this VIP.
    private func setContested(_ contested: Bool) {
        guard contested != wasContested else { return }
        wasContested = contested
        ControlPlaneMetrics.contested(contested ? 1 : -1)
    }

    /// Steps 5 and 6: publish on the proxy list, make the VIP local, bind its outbound
    /// path (make-before-break), then tell the machine.
    private func publish(_ publication: Publication) async {
        let agent = publication.agent
        let epoch = publication.cancel.epoch
        // The selector publishes only if it still gives this VIP that agent.
        guard await context.selector.enqueue(vip, on: agent.name) else { return }
        do {
            if publication.addsLocalAddress { try await environment.host.addLocalAddress(vip) }
            try await environment.host.bindOutboundPath(of: vip, to: agent.name, replacing: publication.replacing)
        } catch {
            // ARP already answers; traffic from the VIP may leave through another adapter.
            environment.logger.error(
                "binding the outbound path failed",
                metadata: ["vip": "\(vip)", "agent": "\(agent.name)", "error": "\(error)"]
            )
        }
        await deliver(.outboundPathBound(agent: agent.name, epoch: epoch, now: environment.clock.now()))
    }

    private func report(_ activation: Activation) {
        if activation.isFailover {
            failovers += 1
            ControlPlaneMetrics.failedOver(took: activation.took)
        } else {
            ControlPlaneMetrics.activated(took: activation.took)
        }
        environment.activations.record(failover: activation.isFailover, logger: environment.logger)
        environment.logger.debug(
            activation.isFailover ? "VIP failed over" : "VIP active",
            metadata: [
                "vip": "\(vip)", "agent": "\(activation.agent.name)", "mac": "\(activation.agent.mac)",
                "previous": "\(activation.previous?.rawValue ?? "-")", "took": "\(activation.took)",
            ]
        )
    }

    private func send(_ announcement: Announcement) async {
        let agent = announcement.agent
        let frames = AnnouncementFrames.round(of: announcement.vip, mac: agent.mac)
        let adapter = context.directory.adapter(agent.name)
        do {
            try await environment.io.send(frames, on: agent.name)
        } catch {
            environment.logger.warning("announcement not sent", metadata: ["vip": "\(vip)", "error": "\(error)"])
            ControlPlaneMetrics.announcementFailed(on: agent.name, family: vip.family)
            await adapter?.transmitFailed()
            if announcement.round == 1 {
                await deliver(.announcementNotSent(agent: agent.name, epoch: announcement.epoch, now: environment.clock.now()))
            }
            return
        }
        announcementsSent += 1
        ControlPlaneMetrics.announcementSent(on: agent.name, family: vip.family)
        await adapter?.transmitSucceeded()
        if announcement.round == 1 {
            await deliver(
                .announcementTransmitted(agent: agent.name, epoch: announcement.epoch, now: environment.clock.now())
            )
        }
    }

    private func releaseHost(_ release: Release) async {
        do {
            if let unbind = release.unbind { try await environment.host.unbindOutboundPath(of: vip, from: unbind) }
            if release.removesLocalAddress { try await environment.host.removeLocalAddress(vip) }
        } catch {
            environment.logger.error("releasing host state failed", metadata: ["vip": "\(vip)", "error": "\(error)"])
        }
    }

    /// A bug isolated this VIP: stop answering for it and hold nothing.
    private func isolate() async {
        for kind in VIPTimerKind.allCases { cancelTimer(kind) }
        await context.selector.release(vip)
    }

    // MARK: Timers

    private func schedule(_ timer: ScheduledTimer) {
        cancelTimer(timer.id.kind)
        timers[timer.id.kind] = context.timers.schedule(.vip(vip, timer.id), at: timer.deadline)
    }

    private func cancelTimer(_ kind: VIPTimerKind) {
        guard let token = timers[kind] else { return }
        timers[kind] = nil
        context.timers.cancel(token)
    }
}
