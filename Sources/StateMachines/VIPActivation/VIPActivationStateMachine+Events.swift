import ProxyARPCore

extension VIPActivationStateMachine {
    /// Feeds one event. Named wrappers below read better at call sites.
    public mutating func handle(_ event: VIPActivationEvent) throws(UnreachableTransition) -> Action {
        switch event {
        case .agentSelected(let agent, let decision, let now): return try agentSelected(agent, decision: decision, now: now)
        case .agentLost(let agent, let decision, let now): return agentLost(agent, decision: decision, now: now)
        case .noAgentAvailable(let decision, let now): return noAgentAvailable(decision: decision, now: now)
        case .announcementSeen(let adapter, let mac, let now): return announcementSeen(on: adapter, mac: mac, now: now)
        case .announcementTransmitted(let agent, let epoch, let now):
            return announcementTransmitted(agent: agent, epoch: epoch, now: now)
        case .announcementNotSent(let agent, let epoch, let now):
            return announcementNotSent(agent: agent, epoch: epoch, now: now)
        case .timerFired(let id, let now): return try timerFired(id, now: now)
        case .outboundPathBound(let agent, let epoch, let now):
            return try outboundPathBound(agent: agent, epoch: epoch, now: now)
        case .claimSeen(let mac, let now): return claimSeen(by: mac, now: now)
        case .probeLost(let now): return probeLost(now: now)
        case .withdraw(let keep, let now): return withdraw(keepLocalAddress: keep, now: now)
        case .agentAddressChanged(let agent, let now): return agentAddressChanged(agent, now: now)
        }
    }

    /// The addresses of `agent.name` changed while it stays the VIP's agent: the VIP
    /// records the agent's new local address (step 6); its rule already points at the
    /// agent's table, which the host rewrote. Not a selection, so no decision number: a
    /// VIP that is no longer on that agent (it moved meanwhile) ignores it.
    public mutating func agentAddressChanged(_ agent: Agent, now: Instant) -> Action {
        switch state {
        case .broadcast(var broadcast) where broadcast.agent.name == agent.name:
            broadcast.agent.localAddress = agent.localAddress
            state = .broadcast(broadcast)
        case .enqueued(var enqueued) where enqueued.agent.name == agent.name:
            enqueued.agent.localAddress = agent.localAddress
            state = .enqueued(enqueued)
        case .active(var active) where active.agent.name == agent.name:
            active.agent.localAddress = agent.localAddress
            state = .active(active)
        case .pending, .broadcast, .enqueued, .active, .conflict, .withdrawn, .failed:
            break
        }
        return .none
    }

    /// The selector chose `agent` in its decision `decision`: announce through it (from
    /// `pending`), or move to it. A decision overtaken by a newer one is ignored.
    public mutating func agentSelected(_ agent: Agent, decision: UInt64, now: Instant) throws(UnreachableTransition) -> Action {
        guard take(decision) else { return .none }
        switch state {
        case .pending(let pending):
            let broadcast = Broadcast(
                agent: agent, epoch: pending.epoch + 1, retransmissions: 0, firstSentAt: now, lastSentAt: now,
                boundAgent: pending.boundAgent, failoverStartedAt: pending.failoverStartedAt, ignoredOwnCopies: 0
            )
            state = .broadcast(broadcast)
            // The confirmation window opens when the round has left (announcementTransmitted).
            return .announce(announcement(broadcast, round: 1), timer: nil)

        case .broadcast(let current) where current.agent.name != agent.name:
            return moveTo(agent, epoch: current.epoch, bound: current.boundAgent, cancel: [], now: now)
        case .enqueued(let current) where current.agent.name != agent.name:
            return moveTo(agent, epoch: current.epoch, bound: current.agent.name, cancel: [], now: now)
        case .active(let current) where current.agent.name != agent.name:
            return moveTo(agent, epoch: current.epoch, bound: current.agent.name, cancel: [.announce], now: now)

        case .broadcast, .enqueued, .active:
            throw unreachable("agentSelected(\(agent.name)) for the agent it already has")
        case .conflict, .withdrawn, .failed:
            // A yielded VIP rejoins on its own; a decision made before it yielded is stale.
            return .none
        }
    }

    /// The selector took the VIP off `lost`, its failed agent, and queued it until it may
    /// announce again (the pace of announcements): wait, and say why.
    public mutating func agentLost(_ lost: AdapterName, decision: UInt64, now: Instant) -> Action {
        guard take(decision) else { return .none }
        return leaveAgent(reason: .agentLost(lost), now: now)
    }

    /// The selector found no eligible adapter: wait, and say why.
    public mutating func noAgentAvailable(decision: UInt64, now: Instant) -> Action {
        guard take(decision) else { return .none }
        return leaveAgent(reason: .noEligibleAdapter, now: now)
    }

    /// A gratuitous ARP for this VIP from one of our MACs was heard on `adapter`.
    /// Untrusted input: never an error.
    public mutating func announcementSeen(on adapter: AdapterName, mac: MACAddress, now: Instant) -> Action {
        switch state {
        case .broadcast(var broadcast):
            guard mac == broadcast.agent.mac else { return .none }
            if adapter != broadcast.agent.name {
                return confirm(broadcast, by: .heardBySibling(adapter), now: now)
            }
            if broadcast.agent.confirmation == .transmit {
                return confirm(broadcast, by: .outboundCopy, now: now)
            }
            broadcast.ignoredOwnCopies += 1
            state = .broadcast(broadcast)
            return .none
        case .active(var active):
            guard mac == active.agent.mac else { return .none }
            active.announcementsConfirmed += 1
            state = .active(active)
            return .none
        case .pending, .enqueued, .conflict, .withdrawn, .failed:
            return .none
        }
    }

    /// A round-1 send through `agent` left the host without error. Under a `.transmit`
    /// policy that confirms; under `.sibling` it opens the confirmation window: the
    /// confirmation timer runs from now, when the frames left, not from when the round was
    /// queued (behind a deep queue the frames may leave long after the decision, and a
    /// sibling cannot hear them before). A stale transmit (earlier attempt, other agent,
    /// or the VIP moved on) changes nothing.
    public mutating func announcementTransmitted(agent: AdapterName, epoch: UInt64, now: Instant) -> Action {
        guard case .broadcast(var broadcast) = state, broadcast.epoch == epoch, broadcast.agent.name == agent else {
            return .none
        }
        broadcast.lastSentAt = now
        broadcast.roundLeft = true
        if broadcast.agent.confirmation == .transmit { return confirm(broadcast, by: .transmitted, now: now) }
        state = .broadcast(broadcast)
        return .schedule(confirmTimer(broadcast.epoch, now: now))
    }

    /// A round-1 send through `agent` failed (the adapter's health machine counts transmit
    /// errors): the round is over all the same, so the confirmation window opens now and
    /// its timer retransmits, or gives the agent up after the last retry. Stale: nothing.
    public mutating func announcementNotSent(agent: AdapterName, epoch: UInt64, now: Instant) -> Action {
        guard case .broadcast(let broadcast) = state, broadcast.epoch == epoch, broadcast.agent.name == agent else {
            return .none
        }
        return .schedule(confirmTimer(broadcast.epoch, now: now))
    }

    /// A timer fired. Fires of an earlier epoch are stale and ignored.
    public mutating func timerFired(_ id: VIPTimerID, now: Instant) throws(UnreachableTransition) -> Action {
        if id.kind == .conflict { return conflictTimerFired(now: now) }
        guard id.epoch == currentEpoch else { return .none }
        switch (id.kind, state) {
        case (.confirm, .broadcast(var broadcast)):
            if broadcast.retransmissions < settings.confirmRetries {
                broadcast.retransmissions += 1
                broadcast.lastSentAt = now
                broadcast.roundLeft = false
                state = .broadcast(broadcast)
                return .announce(announcement(broadcast, round: 1), timer: nil)
            }
            state = .pending(
                Pending(
                    reason: .agentUnconfirmed(broadcast.agent.name), epoch: broadcast.epoch,
                    boundAgent: broadcast.boundAgent, since: now,
                    failoverStartedAt: broadcast.failoverStartedAt ?? broadcast.firstSentAt
                )
            )
            return .requestAgent(Reselection(unusable: broadcast.agent.name, attemptStartedAt: broadcast.firstSentAt))

        case (.announce, .active(var active)):
            let round = active.roundsSent + 1
            active.roundsSent = round
            active.lastSentAt = now
            state = .active(active)
            let sent = Announcement(vip: vip, agent: active.agent, round: round, retransmission: 0, epoch: active.epoch)
            return .announce(sent, timer: nextAnnounceTimer(afterRound: round, epoch: active.epoch, from: now))

        case (.confirm, .pending), (.announce, .pending):
            // The attempt ended (agent lost) and its timer was cancelled, but the fire
            // raced the cancellation: harmless.
            return .none
        case (.confirm, .enqueued), (.confirm, .active):
            throw unreachable("confirm timer fired after confirmation cancelled it")
        case (.announce, .broadcast), (.announce, .enqueued):
            throw unreachable("announce timer fired before activation armed it")
        case (_, .conflict), (_, .withdrawn), (_, .failed):
            return .none
        case (.conflict, _):
            return .none  // handled above
        }
    }

    /// The actor published the VIP and bound its outbound path to `agent`.
    public mutating func outboundPathBound(agent: AdapterName, epoch: UInt64, now: Instant) throws(UnreachableTransition) -> Action {
        // The bind finished after a release (withdrawn, or yielded to another host): undo
        // what the release could not see.
        switch state {
        case .withdrawn(let withdrawn):
            return .release(Release(unbind: agent, removesLocalAddress: releasesLocalAddress(keeping: withdrawn.keepsLocalAddress), cancel: []))
        case .conflict:
            return .release(Release(unbind: agent, removesLocalAddress: releasesLocalAddress(), cancel: []))
        default:
            break
        }
        guard epoch == currentEpoch else { return .none }
        switch state {
        case .enqueued(let enqueued) where enqueued.agent.name == agent:
            state = .active(
                Active(
                    agent: enqueued.agent, epoch: enqueued.epoch, confirmation: enqueued.confirmation,
                    since: now, roundsSent: 1, announcementsConfirmed: 1, lastSentAt: enqueued.lastSentAt
                )
            )
            // Round 2 is spaced from the *last* transmission of round 1: a retransmission
            // sent less than one interval before it would make neighbours inside their
            // 1 s locktime ignore round 2.
            let timer = nextAnnounceTimer(afterRound: 1, epoch: enqueued.epoch, from: enqueued.lastSentAt)
            let isFailover = enqueued.failoverStartedAt != nil || enqueued.boundAgent != nil
            return .activated(
                Activation(
                    agent: enqueued.agent, previous: enqueued.boundAgent, isFailover: isFailover,
                    took: now.duration(since: enqueued.failoverStartedAt ?? createdAt), timer: timer
                )
            )
        case .pending(var pending):
            // Lost the agent while binding: the new binding stays until the next agent
            // replaces it (make-before-break).
            pending.boundAgent = agent
            state = .pending(pending)
            return .none
        case .enqueued, .broadcast, .active:
            throw unreachable("outboundPathBound(\(agent)) without a matching publish")
        case .conflict, .withdrawn, .failed:
            return .none
        }
    }

    /// The configuration dropped this VIP, or the daemon stops: give everything back.
    /// `keepLocalAddress` leaves the VIP on `lo`. Idempotent.
    public mutating func withdraw(keepLocalAddress: Bool, now: Instant) -> Action {
        let unbind: AdapterName?
        var cancel: [VIPTimerKind]
        switch state {
        case .pending(let pending): (unbind, cancel) = (pending.boundAgent, [])
        case .broadcast(let broadcast): (unbind, cancel) = (broadcast.boundAgent, [.confirm])
        case .enqueued(let enqueued): (unbind, cancel) = (enqueued.agent.name, [])
        case .active(let active): (unbind, cancel) = (active.agent.name, [.announce])
        case .conflict: (unbind, cancel) = (nil, [])
        case .withdrawn, .failed: return .none
        }
        if conflicts.contest != nil || isConflict { cancel.append(.conflict) }
        let removes = releasesLocalAddress(keeping: keepLocalAddress)
        state = .withdrawn(Withdrawn(since: now, keepsLocalAddress: keepLocalAddress))
        return .release(Release(unbind: unbind, removesLocalAddress: removes, cancel: cancel))
    }

    // MARK: - Helpers

    /// The epoch of the current (or last) attempt.
    public var currentEpoch: UInt64 {
        switch state {
        case .pending(let s): s.epoch
        case .broadcast(let s): s.epoch
        case .enqueued(let s): s.epoch
        case .active(let s): s.epoch
        case .conflict(let s): s.epoch
        case .withdrawn, .failed: 0
        }
    }

    private var isConflict: Bool {
        if case .conflict = state { return true }
        return false
    }

    private mutating func confirm(_ broadcast: Broadcast, by confirmation: Confirmation, now: Instant) -> Action {
        state = .enqueued(
            Enqueued(
                agent: broadcast.agent, epoch: broadcast.epoch, confirmation: confirmation,
                firstSentAt: broadcast.firstSentAt, lastSentAt: broadcast.roundLeft ? broadcast.lastSentAt : now, confirmedAt: now,
                boundAgent: broadcast.boundAgent,
                failoverStartedAt: broadcast.failoverStartedAt
            )
        )
        let addsLocal = !isLocalAddress
        isLocalAddress = true
        return .publish(
            Publication(
                agent: broadcast.agent, replacing: broadcast.boundAgent, addsLocalAddress: addsLocal,
                cancel: VIPTimerID(kind: .confirm, epoch: broadcast.epoch)
            )
        )
    }

    /// Whether a release must take the VIP off `lo`: it is local and not `keeping` it. From
    /// then on the machine counts it as not local.
    mutating func releasesLocalAddress(keeping: Bool = false) -> Bool {
        let removes = isLocalAddress && !keeping
        if removes { isLocalAddress = false }
        return removes
    }

    /// Takes selector decision `decision` if it is newer than the last one taken.
    private mutating func take(_ decision: UInt64) -> Bool {
        guard decision > lastDecision else { return false }
        switch state {
        case .conflict, .withdrawn, .failed: return false  // decided before it yielded or left
        case .pending, .broadcast, .enqueued, .active: break
        }
        lastDecision = decision
        return true
    }

    /// The selector took the agent away (or had none to give): wait in `pending(reason)`,
    /// keeping the bound outbound path until a new agent replaces it.
    private mutating func leaveAgent(reason: PendingReason, now: Instant) -> Action {
        switch state {
        case .pending(var pending):
            if pending.reason != reason {
                pending.reason = reason
                pending.since = now
            }
            if case .agentLost = reason, pending.failoverStartedAt == nil, pending.boundAgent != nil {
                pending.failoverStartedAt = now
            }
            state = .pending(pending)
            return .none
        case .broadcast(let broadcast):
            state = .pending(
                Pending(
                    reason: reason, epoch: broadcast.epoch, boundAgent: broadcast.boundAgent, since: now,
                    failoverStartedAt: broadcast.failoverStartedAt ?? now
                )
            )
            return .cancelTimers([.confirm])
        case .enqueued(let enqueued):
            state = .pending(
                Pending(reason: reason, epoch: enqueued.epoch, boundAgent: enqueued.agent.name, since: now, failoverStartedAt: now)
            )
            return .none
        case .active(let active):
            state = .pending(
                Pending(reason: reason, epoch: active.epoch, boundAgent: active.agent.name, since: now, failoverStartedAt: now)
            )
            return .cancelTimers([.announce])
        case .conflict, .withdrawn, .failed:
            return .none
        }
    }

    private mutating func moveTo(
        _ agent: Agent, epoch: UInt64, bound: AdapterName?, cancel: [VIPTimerKind], now: Instant
    ) -> Action {
        let broadcast = Broadcast(
            agent: agent, epoch: epoch + 1, retransmissions: 0, firstSentAt: now, lastSentAt: now,
            boundAgent: bound, failoverStartedAt: now, ignoredOwnCopies: 0
        )
        state = .broadcast(broadcast)
        return .move(announcement(broadcast, round: 1), cancel: cancel)
    }

    private func announcement(_ broadcast: Broadcast, round: Int) -> Announcement {
        Announcement(
            vip: vip, agent: broadcast.agent, round: round,
            retransmission: broadcast.retransmissions, epoch: broadcast.epoch
        )
    }

    private func confirmTimer(_ epoch: UInt64, now: Instant) -> ScheduledTimer {
        ScheduledTimer(id: VIPTimerID(kind: .confirm, epoch: epoch), deadline: now.advanced(by: settings.confirmTimeout))
    }

    /// After round `round` was sent at `sentAt`: the next round, or the refresh, or nothing.
    private func nextAnnounceTimer(afterRound round: Int, epoch: UInt64, from sentAt: Instant) -> ScheduledTimer? {
        let id = VIPTimerID(kind: .announce, epoch: epoch)
        if round < settings.announceCount {
            return ScheduledTimer(id: id, deadline: sentAt.advanced(by: settings.announceInterval))
        }
        guard let refresh = settings.refreshInterval else { return nil }
        return ScheduledTimer(id: id, deadline: sentAt.advanced(by: refresh))
    }

    private mutating func unreachable(_ event: String) -> UnreachableTransition {
        let error = UnreachableTransition(state: state.name, event: event)
        state = .failed(Failed(error: error))
        if assertsOnUnreachable { assertionFailure("unreachable VIP transition: \(error)") }
        return error
    }
}
