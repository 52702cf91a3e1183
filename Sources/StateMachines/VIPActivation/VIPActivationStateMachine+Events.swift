import ProxyARPCore

extension VIPActivationStateMachine {
    /// Feeds one event. Named wrappers below read better at call sites.
    public mutating func handle(_ event: VIPActivationEvent) throws(UnreachableTransition) -> Action {
        switch event {
        case .agentSelected(let agent, let now): return try agentSelected(agent, now: now)
        case .noAgentAvailable(let now): return try noAgentAvailable(now: now)
        case .announcementSeen(let adapter, let mac, let now): return announcementSeen(on: adapter, mac: mac, now: now)
        case .announcementTransmitted(let agent, let epoch, let now):
            return announcementTransmitted(agent: agent, epoch: epoch, now: now)
        case .timerFired(let id, let now): return try timerFired(id, now: now)
        case .outboundPathBound(let agent, let epoch, let now):
            return try outboundPathBound(agent: agent, epoch: epoch, now: now)
        case .agentLost(let now): return agentLost(now: now)
        case .withdraw(let now): return withdraw(now: now)
        }
    }

    /// The selector chose `agent`: announce through it (from `pending`), or move to it.
    public mutating func agentSelected(_ agent: Agent, now: Instant) throws(UnreachableTransition) -> Action {
        switch state {
        case .pending(let pending):
            let broadcast = Broadcast(
                agent: agent, epoch: pending.epoch + 1, retransmissions: 0, firstSentAt: now, lastSentAt: now,
                boundAgent: pending.boundAgent, failoverStartedAt: pending.failoverStartedAt, ignoredOwnCopies: 0
            )
            state = .broadcast(broadcast)
            return .announce(announcement(broadcast, round: 1), timer: confirmTimer(broadcast.epoch, now: now))

        case .broadcast(let current) where current.agent.name != agent.name:
            return moveTo(agent, withdrawFrom: nil, epoch: current.epoch, bound: current.boundAgent, now: now)
        case .enqueued(let current) where current.agent.name != agent.name:
            return moveTo(agent, withdrawFrom: current.agent.name, epoch: current.epoch, bound: current.agent.name, now: now)
        case .active(let current) where current.agent.name != agent.name:
            return moveTo(agent, withdrawFrom: current.agent.name, epoch: current.epoch, bound: current.agent.name, now: now)

        case .broadcast, .enqueued, .active:
            throw unreachable("agentSelected(\(agent.name)) for the agent it already has")
        case .withdrawn, .failed:
            return .none
        }
    }

    /// The selector found no eligible adapter: wait, and say why.
    public mutating func noAgentAvailable(now: Instant) throws(UnreachableTransition) -> Action {
        switch state {
        case .pending(var pending):
            if pending.reason != .noEligibleAdapter {
                pending.reason = .noEligibleAdapter
                pending.since = now
            }
            state = .pending(pending)
            return .none
        case .broadcast, .enqueued, .active:
            throw unreachable("noAgentAvailable while an agent is held")
        case .withdrawn, .failed:
            return .none
        }
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
        case .pending, .enqueued, .withdrawn, .failed:
            return .none
        }
    }

    /// A round through `agent` was transmitted without error. Confirms only under a
    /// `.transmit` policy; a stale or sibling-policy transmit changes nothing.
    public mutating func announcementTransmitted(agent: AdapterName, epoch: UInt64, now: Instant) -> Action {
        guard case .broadcast(let broadcast) = state,
            broadcast.epoch == epoch, broadcast.agent.name == agent,
            broadcast.agent.confirmation == .transmit
        else { return .none }
        return confirm(broadcast, by: .transmitted, now: now)
    }

    /// A timer fired. Fires of an earlier epoch are stale and ignored.
    public mutating func timerFired(_ id: VIPTimerID, now: Instant) throws(UnreachableTransition) -> Action {
        guard id.epoch == currentEpoch else { return .none }
        switch (id.kind, state) {
        case (.confirm, .broadcast(var broadcast)):
            if broadcast.retransmissions < settings.confirmRetries {
                broadcast.retransmissions += 1
                broadcast.lastSentAt = now
                state = .broadcast(broadcast)
                return .announce(announcement(broadcast, round: 1), timer: confirmTimer(broadcast.epoch, now: now))
            }
            state = .pending(
                Pending(
                    reason: .agentUnconfirmed(broadcast.agent.name), epoch: broadcast.epoch,
                    boundAgent: broadcast.boundAgent, since: now,
                    failoverStartedAt: broadcast.failoverStartedAt ?? broadcast.firstSentAt
                )
            )
            return .reselect(withdrawFrom: nil, unusable: broadcast.agent.name, cancel: [])

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
        case (_, .withdrawn), (_, .failed):
            return .none
        }
    }

    /// The actor published the VIP and bound its outbound path to `agent`.
    public mutating func outboundPathBound(agent: AdapterName, epoch: UInt64, now: Instant) throws(UnreachableTransition) -> Action {
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
            guard let timer = nextAnnounceTimer(afterRound: 1, epoch: enqueued.epoch, from: enqueued.lastSentAt) else {
                return .none
            }
            return .schedule(timer)
        case .pending(var pending):
            // Lost the agent while binding: the new binding stays until the next agent
            // replaces it (make-before-break).
            pending.boundAgent = agent
            state = .pending(pending)
            return .none
        case .enqueued, .broadcast, .active:
            throw unreachable("outboundPathBound(\(agent)) without a matching publish")
        case .withdrawn, .failed:
            return .none
        }
    }

    /// The agent's adapter stopped being eligible: withdraw from its proxy list at once
    /// and ask for another agent.
    public mutating func agentLost(now: Instant) -> Action {
        switch state {
        case .broadcast(let broadcast):
            state = .pending(
                Pending(
                    reason: .agentLost(broadcast.agent.name), epoch: broadcast.epoch, boundAgent: broadcast.boundAgent,
                    since: now, failoverStartedAt: broadcast.failoverStartedAt ?? now
                )
            )
            return .reselect(withdrawFrom: nil, unusable: nil, cancel: [.confirm])
        case .enqueued(let enqueued):
            state = .pending(
                Pending(
                    reason: .agentLost(enqueued.agent.name), epoch: enqueued.epoch, boundAgent: enqueued.agent.name,
                    since: now, failoverStartedAt: now
                )
            )
            return .reselect(withdrawFrom: enqueued.agent.name, unusable: nil, cancel: [])
        case .active(let active):
            state = .pending(
                Pending(
                    reason: .agentLost(active.agent.name), epoch: active.epoch, boundAgent: active.agent.name,
                    since: now, failoverStartedAt: now
                )
            )
            return .reselect(withdrawFrom: active.agent.name, unusable: nil, cancel: [.announce])
        case .pending, .withdrawn, .failed:
            return .none
        }
    }

    /// The configuration dropped this VIP: give everything back. Idempotent.
    public mutating func withdraw(now: Instant) -> Action {
        let action: Action
        switch state {
        case .pending(let pending):
            action = .release(withdrawFrom: nil, unbind: pending.boundAgent, cancel: [])
        case .broadcast(let broadcast):
            action = .release(withdrawFrom: nil, unbind: broadcast.boundAgent, cancel: [.confirm])
        case .enqueued(let enqueued):
            action = .release(withdrawFrom: enqueued.agent.name, unbind: enqueued.agent.name, cancel: [])
        case .active(let active):
            action = .release(withdrawFrom: active.agent.name, unbind: active.agent.name, cancel: [.announce])
        case .withdrawn, .failed:
            return .none
        }
        state = .withdrawn(Withdrawn(since: now))
        return action
    }

    // MARK: - Helpers

    /// The epoch of the current (or last) attempt.
    public var currentEpoch: UInt64 {
        switch state {
        case .pending(let s): s.epoch
        case .broadcast(let s): s.epoch
        case .enqueued(let s): s.epoch
        case .active(let s): s.epoch
        case .withdrawn, .failed: 0
        }
    }

    private mutating func confirm(_ broadcast: Broadcast, by confirmation: Confirmation, now: Instant) -> Action {
        state = .enqueued(
            Enqueued(
                agent: broadcast.agent, epoch: broadcast.epoch, confirmation: confirmation,
                firstSentAt: broadcast.firstSentAt, lastSentAt: broadcast.lastSentAt, confirmedAt: now, boundAgent: broadcast.boundAgent,
                failoverStartedAt: broadcast.failoverStartedAt
            )
        )
        return .publish(
            broadcast.agent, replacing: broadcast.boundAgent,
            cancel: VIPTimerID(kind: .confirm, epoch: broadcast.epoch)
        )
    }

    private mutating func moveTo(
        _ agent: Agent, withdrawFrom: AdapterName?, epoch: UInt64, bound: AdapterName?, now: Instant
    ) -> Action {
        let broadcast = Broadcast(
            agent: agent, epoch: epoch + 1, retransmissions: 0, firstSentAt: now, lastSentAt: now,
            boundAgent: bound, failoverStartedAt: now, ignoredOwnCopies: 0
        )
        state = .broadcast(broadcast)
        return .move(
            withdrawFrom: withdrawFrom, announcement: announcement(broadcast, round: 1),
            timer: confirmTimer(broadcast.epoch, now: now)
        )
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
