import ProxyARPCore
import ProxyARPStateMachines
import Testing

typealias VIPAction = VIPActivationStateMachine.Action

extension VIPActivationStateMachine {
    /// The selector's next decision, `agent`, numbered after the last one taken.
    mutating func selected(_ agent: Agent, now: Instant) throws(UnreachableTransition) -> Action {
        try agentSelected(agent, decision: lastDecision + 1, now: now)
    }

    /// The selector's next decision: the agent (eth0 if none) was lost, another comes later.
    mutating func lost(now: Instant) -> Action {
        agentLost(state.agent?.name ?? "eth0", decision: lastDecision + 1, now: now)
    }

    /// The selector's next decision: no eligible adapter.
    mutating func noAgent(now: Instant) -> Action {
        noAgentAvailable(decision: lastDecision + 1, now: now)
    }
}

// Scenario tests of VIPActivationStateMachine+Events.swift: whole activations with exact
// deadlines, retransmission, confirmation policies, failover and withdrawal.

@Suite("VIP activation: scenarios")
struct VIPActivationScenarioTests {
    let vip = Fixture.vip
    let t0 = Fixture.t0

    private func confirmTimer(_ epoch: UInt64, at deadline: Instant) -> ScheduledTimer {
        ScheduledTimer(id: VIPTimerID(kind: .confirm, epoch: epoch), deadline: deadline)
    }

    private func announceTimer(_ epoch: UInt64, at deadline: Instant) -> ScheduledTimer {
        ScheduledTimer(id: VIPTimerID(kind: .announce, epoch: epoch), deadline: deadline)
    }

    private func announcement(_ agent: Agent, round: Int, retx: Int = 0, epoch: UInt64) -> Announcement {
        Announcement(vip: vip, agent: agent, round: round, retransmission: retx, epoch: epoch)
    }

    @Test("happy path: round 1 at t0, confirm, publish, active, rounds at t0+interval and t0+2·interval, then refresh",
          arguments: [Duration?.none, .seconds(300)])
    func happyPath(refresh: Duration?) throws {
        let interval = Duration.milliseconds(1200)
        let settings = VIPActivationSettings(
            announceCount: 3, announceInterval: interval, confirmTimeout: .milliseconds(250), confirmRetries: 2,
            refreshInterval: refresh)
        var machine = VIPActivationStateMachine(vip: vip, settings: settings, now: t0 - .seconds(1))
        #expect(machine.state.description == "pending(awaiting selection)")

        // Step 1-3: selected, round 1 broadcast; the confirmation is armed once it has left.
        #expect(try machine.selected(Fixture.eth0, now: t0)
            == VIPAction.announce(announcement(Fixture.eth0, round: 1, epoch: 1), timer: nil))
        #expect(machine.announcementTransmitted(agent: "eth0", epoch: 1, now: t0)
            == VIPAction.schedule(confirmTimer(1, at: t0 + .milliseconds(250))))
        #expect(machine.state.description == "broadcast(eth0 epoch 1 retx 0)")

        // Step 4-5: heard on the sibling -> published, confirmation timer cancelled.
        #expect(machine.announcementSeen(on: "eth1", mac: Fixture.macA, now: t0 + .milliseconds(3))
            == VIPAction.publish(Publication(agent: Fixture.eth0, replacing: nil, addsLocalAddress: true, cancel: VIPTimerID(kind: .confirm, epoch: 1))))
        #expect(machine.state.description == "enqueued(eth0 epoch 1 heard by eth1)")

        // Step 6: bound -> active; round 2 is due exactly one interval after round 1.
        #expect(try machine.outboundPathBound(agent: "eth0", epoch: 1, now: t0 + .milliseconds(7))
            == VIPAction.activated(
                Activation(agent: Fixture.eth0, previous: nil, isFailover: false, took: .milliseconds(1007), timer: announceTimer(1, at: t0 + interval))))
        guard case .active(let active) = machine.state else { Issue.record("not active"); return }
        #expect(active.since == t0 + .milliseconds(7))
        #expect(active.roundsSent == 1)
        #expect(active.confirmation == Confirmation.heardBySibling("eth1"))

        // Rounds 2 and 3, each arming the next one interval later.
        #expect(try machine.timerFired(VIPTimerID(kind: .announce, epoch: 1), now: t0 + interval)
            == VIPAction.announce(announcement(Fixture.eth0, round: 2, epoch: 1), timer: announceTimer(1, at: t0 + interval * 2)))
        let afterLast = try machine.timerFired(VIPTimerID(kind: .announce, epoch: 1), now: t0 + interval * 2)
        #expect(machine.state.description == "active(eth0 epoch 1 rounds 3)")

        if let refresh {
            #expect(afterLast
                == VIPAction.announce(announcement(Fixture.eth0, round: 3, epoch: 1), timer: announceTimer(1, at: t0 + interval * 2 + refresh)))
            // The refresh keeps re-arming itself.
            #expect(try machine.timerFired(VIPTimerID(kind: .announce, epoch: 1), now: t0 + interval * 2 + refresh)
                == VIPAction.announce(announcement(Fixture.eth0, round: 4, epoch: 1), timer: announceTimer(1, at: t0 + interval * 2 + refresh * 2)))
        } else {
            #expect(afterLast == VIPAction.announce(announcement(Fixture.eth0, round: 3, epoch: 1), timer: nil))
        }
    }

    @Test("a single-round configuration arms nothing after activation (or only the refresh)")
    func singleRound() throws {
        let settings = VIPActivationSettings(
            announceCount: 1, announceInterval: .seconds(2), confirmTimeout: .milliseconds(250), confirmRetries: 0,
            refreshInterval: nil)
        var machine = VIPActivationStateMachine(vip: vip, settings: settings, now: t0)
        _ = try machine.selected(Fixture.eth0, now: t0)
        _ = machine.announcementSeen(on: "eth1", mac: Fixture.macA, now: t0)
        #expect(try machine.outboundPathBound(agent: "eth0", epoch: 1, now: t0)
            == VIPAction.activated(Activation(agent: Fixture.eth0, previous: nil, isFailover: false, took: .zero, timer: nil)))
        #expect(machine.state.name == "active")
    }

    @Test("unconfirmed: retransmit round 1 confirmRetries times, then reselect with the agent unusable",
          arguments: [0, 1, 2, 5])
    func retransmitThenReselect(retries: Int) throws {
        let timeout = Duration.milliseconds(250)
        let settings = VIPActivationSettings(
            announceCount: 3, announceInterval: .milliseconds(1200), confirmTimeout: timeout, confirmRetries: retries,
            refreshInterval: nil)
        var machine = VIPActivationStateMachine(vip: vip, settings: settings, now: t0)
        _ = try machine.selected(Fixture.eth0, now: t0)
        // Each round leaves 100 ms after it was queued (a deep send queue): its window runs from there.
        let queued = Duration.milliseconds(100)
        var now = t0 + queued
        #expect(machine.announcementTransmitted(agent: "eth0", epoch: 1, now: now) == VIPAction.schedule(confirmTimer(1, at: now + timeout)))
        for retx in 1...max(1, retries) where retries > 0 {
            now = now + timeout
            #expect(try machine.timerFired(VIPTimerID(kind: .confirm, epoch: 1), now: now)
                == VIPAction.announce(announcement(Fixture.eth0, round: 1, retx: retx, epoch: 1), timer: nil))
            #expect(machine.state.description == "broadcast(eth0 epoch 1 retx \(retx))")
            now = now + queued
            #expect(machine.announcementTransmitted(agent: "eth0", epoch: 1, now: now) == VIPAction.schedule(confirmTimer(1, at: now + timeout)))
        }
        now = now + timeout
        #expect(try machine.timerFired(VIPTimerID(kind: .confirm, epoch: 1), now: now)
            == VIPAction.requestAgent(Reselection(unusable: "eth0", attemptStartedAt: t0)))
        guard case .pending(let pending) = machine.state else { Issue.record("not pending"); return }
        #expect(pending.reason == .agentUnconfirmed("eth0"))
        #expect(machine.state.description == "pending(announcements via eth0 unconfirmed)")
        #expect(pending.failoverStartedAt == t0)

        // A late sighting of the abandoned attempt changes nothing.
        let before = machine
        #expect(machine.announcementSeen(on: "eth1", mac: Fixture.macA, now: now) == .none)
        #expect(machine == before)

        // The next agent starts attempt 2.
        #expect(try machine.selected(Fixture.eth1, now: now) == VIPAction.announce(announcement(Fixture.eth1, round: 1, epoch: 2), timer: nil))
    }

    @Test("heard before its departure was reported: round 2 is spaced from the sighting, never from the decision")
    func heardBeforeReportedLeft() throws {
        var machine = VIPActivationStateMachine(vip: vip, settings: Fixture.vipSettings, now: t0)
        _ = try machine.selected(Fixture.eth0, now: t0)
        // Queued 2 s; a sibling hears it before the actor learns that the send returned.
        let heard = t0 + .seconds(2)
        _ = machine.announcementSeen(on: "eth1", mac: Fixture.macA, now: heard)
        #expect(machine.announcementTransmitted(agent: "eth0", epoch: 1, now: heard + .milliseconds(1)) == .none, "already confirmed")
        #expect(try machine.outboundPathBound(agent: "eth0", epoch: 1, now: heard + .milliseconds(2))
            == VIPAction.activated(
                Activation(
                    agent: Fixture.eth0, previous: nil, isFailover: false, took: .seconds(2) + .milliseconds(2),
                    timer: announceTimer(1, at: heard + .milliseconds(1200)))))
    }

    @Test("a round still queued is never counted unconfirmed: the window opens when it leaves, or when its send failed")
    func windowOpensWhenTheRoundLeaves() throws {
        var machine = VIPActivationStateMachine(vip: vip, settings: Fixture.vipSettings, now: t0)
        _ = try machine.selected(Fixture.eth0, now: t0)
        // Queued for 5 s (a burst far larger than the 250 ms × 3 window): no timer runs meanwhile.
        let left = t0 + .seconds(5)
        #expect(machine.announcementTransmitted(agent: "eth0", epoch: 1, now: left)
            == VIPAction.schedule(confirmTimer(1, at: left + .milliseconds(250))))
        guard case .broadcast(let broadcast) = machine.state else { Issue.record("not broadcast"); return }
        #expect(broadcast.firstSentAt == t0, "the attempt still began at the decision")
        #expect(broadcast.lastSentAt == left, "round 2 is spaced from when round 1 really left")
        // Heard 10 ms after it left: confirmed, although 5 s passed since the decision.
        #expect(machine.announcementSeen(on: "eth1", mac: Fixture.macA, now: left + .milliseconds(10))
            == VIPAction.publish(Publication(agent: Fixture.eth0, replacing: nil, addsLocalAddress: true, cancel: VIPTimerID(kind: .confirm, epoch: 1))))

        // A failed send opens the window too, so the retries still run and end.
        var failing = VIPActivationStateMachine(vip: vip, settings: Fixture.vipSettings, now: t0)
        _ = try failing.selected(Fixture.eth0, now: t0)
        #expect(failing.announcementNotSent(agent: "eth0", epoch: 1, now: t0 + .milliseconds(1))
            == VIPAction.schedule(confirmTimer(1, at: t0 + .milliseconds(251))))
        #expect(failing.announcementNotSent(agent: "eth0", epoch: 0, now: t0 + .milliseconds(2)) == .none, "stale attempt")
        #expect(failing.announcementNotSent(agent: "eth1", epoch: 1, now: t0 + .milliseconds(2)) == .none, "other agent")
    }

    @Test("retransmitted round 1 keeps later rounds more than the 1 s locktime apart")
    func retransmissionSpacing() throws {
        // Defaults: 250 ms confirmation, 2 retries, 1.2 s interval. Round 1 is sent at t0,
        // t0+250ms and t0+500ms; it is the last of these that neighbours may have taken,
        // so round 2 must come at least one interval after it.
        var machine = VIPActivationStateMachine(vip: vip, settings: Fixture.vipSettings, now: t0)
        _ = try machine.selected(Fixture.eth0, now: t0)
        _ = machine.announcementTransmitted(agent: "eth0", epoch: 1, now: t0)
        _ = try machine.timerFired(VIPTimerID(kind: .confirm, epoch: 1), now: t0 + .milliseconds(250))
        _ = machine.announcementTransmitted(agent: "eth0", epoch: 1, now: t0 + .milliseconds(250))
        _ = try machine.timerFired(VIPTimerID(kind: .confirm, epoch: 1), now: t0 + .milliseconds(500))
        _ = machine.announcementTransmitted(agent: "eth0", epoch: 1, now: t0 + .milliseconds(500))
        _ = machine.announcementSeen(on: "eth1", mac: Fixture.macA, now: t0 + .milliseconds(505))
        let action = try machine.outboundPathBound(agent: "eth0", epoch: 1, now: t0 + .milliseconds(510))
        #expect(action == VIPAction.activated(
            Activation(
                agent: Fixture.eth0, previous: nil, isFailover: false, took: .milliseconds(510),
                timer: announceTimer(1, at: t0 + .milliseconds(500) + .milliseconds(1200)))))
    }

    @Test("sibling policy ignores the outbound copy and a transmit; only a sibling confirms")
    func siblingPolicy() throws {
        var machine = vipMachine(in: .broadcast, confirmation: .sibling)
        #expect(machine.announcementSeen(on: "eth0", mac: Fixture.macA, now: t0 + .milliseconds(1)) == .none)
        // A transmit only opens the confirmation window.
        #expect(machine.announcementTransmitted(agent: "eth0", epoch: 1, now: t0 + .milliseconds(1))
            == VIPAction.schedule(confirmTimer(1, at: t0 + .milliseconds(251))))
        #expect(machine.announcementSeen(on: "eth0", mac: Fixture.macA, now: t0 + .milliseconds(2)) == .none)
        guard case .broadcast(let broadcast) = machine.state else { Issue.record("left broadcast"); return }
        #expect(broadcast.ignoredOwnCopies == 2)

        // A foreign MAC on a sibling is not a confirmation either.
        #expect(machine.announcementSeen(on: "eth1", mac: Fixture.foreignMAC, now: t0 + .milliseconds(3)) == .none)
        #expect(machine.state.name == "broadcast")

        #expect(machine.announcementSeen(on: "eth1", mac: Fixture.macA, now: t0 + .milliseconds(4))
            == VIPAction.publish(Publication(agent: Fixture.eth0, replacing: nil, addsLocalAddress: true, cancel: VIPTimerID(kind: .confirm, epoch: 1))))
        #expect(machine.state.description == "enqueued(eth0 epoch 1 heard by eth1)")
    }

    @Test("transmit policy accepts the outbound copy")
    func transmitPolicyOutboundCopy() throws {
        let agent = Fixture.agent("eth0", confirmation: .transmit)
        var machine = vipMachine(in: .broadcast, confirmation: .transmit)
        #expect(machine.announcementSeen(on: "eth0", mac: Fixture.macA, now: t0 + .milliseconds(1))
            == VIPAction.publish(Publication(agent: agent, replacing: nil, addsLocalAddress: true, cancel: VIPTimerID(kind: .confirm, epoch: 1))))
        #expect(machine.state.description == "enqueued(eth0 epoch 1 outbound copy)")
    }

    @Test("transmit policy accepts a transmit of the current attempt only")
    func transmitPolicyTransmit() throws {
        let agent = Fixture.agent("eth0", confirmation: .transmit)
        var machine = vipMachine(in: .broadcast, confirmation: .transmit)
        let before = machine
        #expect(machine.announcementTransmitted(agent: "eth0", epoch: 0, now: t0) == .none)
        #expect(machine.announcementTransmitted(agent: "eth1", epoch: 1, now: t0) == .none)
        #expect(machine == before)
        #expect(machine.announcementTransmitted(agent: "eth0", epoch: 1, now: t0 + .milliseconds(1))
            == VIPAction.publish(Publication(agent: agent, replacing: nil, addsLocalAddress: true, cancel: VIPTimerID(kind: .confirm, epoch: 1))))
        #expect(machine.state.description == "enqueued(eth0 epoch 1 transmitted)")
    }

    @Test("failover from active: withdraw at once, keep the binding, publish replacing the old agent")
    func failoverFromActive() throws {
        var machine = vipMachine(in: .active)
        let lostAt = t0 + .seconds(10)

        #expect(machine.lost(now: lostAt) == VIPAction.cancelTimers([.announce]))
        guard case .pending(let pending) = machine.state else { Issue.record("not pending"); return }
        #expect(pending.reason == .agentLost("eth0"))
        #expect(pending.boundAgent == "eth0", "outbound path stays bound until the next agent replaces it")
        #expect(pending.failoverStartedAt == lostAt)
        #expect(machine.state.description == "pending(agent eth0 lost)")

        // A second loss report is harmless.
        #expect(machine.lost(now: lostAt) == .none)

        // The new agent announces; nothing left to withdraw, so a plain announce (not a move).
        let selectedAt = lostAt + .milliseconds(2)
        #expect(try machine.selected(Fixture.eth1, now: selectedAt)
            == VIPAction.announce(announcement(Fixture.eth1, round: 1, epoch: 2), timer: nil))
        guard case .broadcast(let broadcast) = machine.state else { Issue.record("not broadcast"); return }
        #expect(broadcast.boundAgent == "eth0")
        #expect(broadcast.failoverStartedAt == lostAt)

        // Stale completions of attempt 1 change nothing.
        let before = machine
        #expect(try machine.timerFired(VIPTimerID(kind: .announce, epoch: 1), now: selectedAt) == .none)
        #expect(try machine.outboundPathBound(agent: "eth0", epoch: 1, now: selectedAt) == .none)
        #expect(machine == before)
        _ = machine.announcementTransmitted(agent: "eth1", epoch: 2, now: selectedAt)

        // eth0 (a sibling on the segment) hears eth1's announcement.
        #expect(machine.announcementSeen(on: "eth0", mac: Fixture.macB, now: selectedAt + .milliseconds(5))
            == VIPAction.publish(Publication(agent: Fixture.eth1, replacing: "eth0", addsLocalAddress: false, cancel: VIPTimerID(kind: .confirm, epoch: 2))))
        guard case .enqueued(let enqueued) = machine.state else { Issue.record("not enqueued"); return }
        #expect(enqueued.failoverStartedAt == lostAt)
        #expect(enqueued.boundAgent == "eth0")

        #expect(try machine.outboundPathBound(agent: "eth1", epoch: 2, now: selectedAt + .milliseconds(9))
            == VIPAction.activated(
                Activation(
                    agent: Fixture.eth1, previous: "eth0", isFailover: true, took: .milliseconds(11),
                    timer: announceTimer(2, at: selectedAt + .milliseconds(1200)))))
        #expect(machine.state.description == "active(eth1 epoch 2 rounds 1)")
        #expect(machine.state.agent == Fixture.eth1)
    }

    @Test("agent lost while binding: the late bind is remembered and replaced later")
    func lostWhileBinding() throws {
        var machine = vipMachine(in: .enqueued)
        #expect(machine.lost(now: t0 + .seconds(1)) == VIPAction.none)
        #expect(try machine.outboundPathBound(agent: "eth0", epoch: 1, now: t0 + .seconds(1)) == .none)
        _ = try machine.selected(Fixture.eth1, now: t0 + .seconds(2))
        #expect(machine.announcementSeen(on: "eth0", mac: Fixture.macB, now: t0 + .seconds(2))
            == VIPAction.publish(Publication(agent: Fixture.eth1, replacing: "eth0", addsLocalAddress: false, cancel: VIPTimerID(kind: .confirm, epoch: 2))))
    }

    @Test("no agent available: pending says why, once")
    func noAgent() throws {
        var machine = VIPActivationStateMachine(vip: vip, settings: Fixture.vipSettings, now: t0)
        #expect(machine.noAgent(now: t0 + .seconds(1)) == .none)
        #expect(machine.state.description == "pending(no eligible adapter)")
        guard case .pending(let first) = machine.state else { Issue.record("not pending"); return }
        #expect(first.since == t0 + .seconds(1))
        _ = machine.noAgent(now: t0 + .seconds(2))
        guard case .pending(let second) = machine.state else { Issue.record("not pending"); return }
        #expect(second.since == t0 + .seconds(1), "a repeated report keeps the original since")
    }

    @Test("preemptive move: withdraw from the healthy agent, announce through the better one, replace the binding")
    func preemptiveMove() throws {
        var machine = vipMachine(in: .active)
        let movedAt = t0 + .seconds(30)
        #expect(try machine.selected(Fixture.eth1, now: movedAt)
            == VIPAction.move(announcement(Fixture.eth1, round: 1, epoch: 2), cancel: [.announce]))
        guard case .broadcast(let broadcast) = machine.state else { Issue.record("not broadcast"); return }
        #expect(broadcast.boundAgent == "eth0")
        #expect(broadcast.failoverStartedAt == movedAt)

        // The old attempt's announce timer is stale now.
        #expect(try machine.timerFired(VIPTimerID(kind: .announce, epoch: 1), now: movedAt + .milliseconds(100)) == .none)
        #expect(machine.announcementSeen(on: "eth0", mac: Fixture.macB, now: movedAt + .milliseconds(5))
            == VIPAction.publish(Publication(agent: Fixture.eth1, replacing: "eth0", addsLocalAddress: false, cancel: VIPTimerID(kind: .confirm, epoch: 2))))
        _ = try machine.outboundPathBound(agent: "eth1", epoch: 2, now: movedAt + .milliseconds(8))
        #expect(machine.state.description == "active(eth1 epoch 2 rounds 1)")
    }

    @Test("withdraw releases everything held, in every state, and is idempotent", arguments: [
        ("pending fresh", Release(unbind: nil, removesLocalAddress: false, cancel: [])),
        ("pending after failover", Release(unbind: "eth0", removesLocalAddress: true, cancel: [])),
        ("broadcast", Release(unbind: nil, removesLocalAddress: false, cancel: [.confirm])),
        ("broadcast after failover", Release(unbind: "eth0", removesLocalAddress: true, cancel: [.confirm])),
        ("enqueued", Release(unbind: "eth0", removesLocalAddress: true, cancel: [])),
        ("active", Release(unbind: "eth0", removesLocalAddress: true, cancel: [.announce])),
    ])
    func withdrawReleases(_ situation: String, expected: Release) throws {
        var machine: VIPActivationStateMachine
        switch situation {
        case "pending fresh":
            machine = VIPActivationStateMachine(vip: vip, settings: Fixture.vipSettings, now: t0)
        case "pending after failover":
            machine = vipMachine(in: .active)
            _ = machine.lost(now: t0 + .seconds(1))
        case "broadcast after failover":
            machine = vipMachine(in: .active)
            _ = machine.lost(now: t0 + .seconds(1))
            _ = try machine.selected(Fixture.eth1, now: t0 + .seconds(1))
        default:
            machine = vipMachine(in: VIPStateName(rawValue: situation)!)
        }
        let at = t0 + .seconds(60)
        #expect(machine.withdraw(keepLocalAddress: false, now: at) == .release(expected))
        guard case .withdrawn(let withdrawn) = machine.state else { Issue.record("not withdrawn"); return }
        #expect(withdrawn.since == at)
        #expect(machine.state.agent == nil)
        let after = machine
        #expect(machine.withdraw(keepLocalAddress: false, now: at + .seconds(1)) == .none)
        #expect(machine == after)
    }

    @Test("a decision overtaken in flight is ignored; a late bind after withdrawal is undone")
    func overtakenDecisions() throws {
        var machine = VIPActivationStateMachine(vip: vip, settings: Fixture.vipSettings, now: t0)
        // Decision 2 (eth1) arrives before decision 1 (eth0), which the selector made first.
        _ = try machine.agentSelected(Fixture.eth1, decision: 2, now: t0)
        let before = machine
        #expect(try machine.agentSelected(Fixture.eth0, decision: 1, now: t0) == .none)
        #expect(machine.agentLost("eth0", decision: 1, now: t0) == .none)
        #expect(machine == before)
        #expect(machine.state.agent == Fixture.eth1)

        // Published, then withdrawn while binding: the bind that completes later is undone.
        _ = machine.announcementSeen(on: "eth0", mac: Fixture.macB, now: t0 + .milliseconds(1))
        #expect(machine.isLocalAddress)
        #expect(machine.withdraw(keepLocalAddress: false, now: t0 + .milliseconds(2))
            == .release(Release(unbind: "eth1", removesLocalAddress: true, cancel: [])))
        #expect(try machine.outboundPathBound(agent: "eth1", epoch: 1, now: t0 + .milliseconds(3))
            == .release(Release(unbind: "eth1", removesLocalAddress: false, cancel: [])))
        #expect(!machine.isLocalAddress)
        // A decision after withdrawal is not taken.
        #expect(try machine.agentSelected(Fixture.eth0, decision: 3, now: t0 + .milliseconds(4)) == .none)
        #expect(machine.state.name == "withdrawn")
    }

    @Test("handle(_:) and the named methods agree on every event name")
    func eventNames() {
        #expect(VIPProbe.confirmFiredCurrent.event.name == "confirmTimerFired")
        #expect(VIPProbe.announceFiredStale.event.name == "announceTimerFired")
        #expect(VIPProbe.pathBoundOther.event.name == "outboundPathBound")
        #expect(VIPProbe.notSentCurrent.event.name == "announcementNotSent")
        #expect(Set(VIPProbe.allCases.map(\.event.name)).count == 14)
    }
}
