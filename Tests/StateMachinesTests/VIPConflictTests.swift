import ProxyARPCore
import ProxyARPStateMachines
import Testing

// Scenario tests of VIPActivationStateMachine+Conflicts.swift: the three policies of
// RFC 5227 §2.4, the contest and its end, the log's rate limit, one frame heard by several
// adapters counted once.

@Suite("VIP activation: foreign claims")
struct VIPConflictTests {
    let t0 = Fixture.t0
    let claimant = Fixture.foreignMAC

    private func active(_ policy: ConflictPolicy) -> VIPActivationStateMachine {
        var settings = Fixture.vipSettings
        settings.conflicts.policy = policy
        var machine = VIPActivationStateMachine(vip: Fixture.vip, settings: settings, now: t0)
        _ = try? machine.agentSelected(Fixture.eth0, decision: 1, now: t0)
        _ = machine.announcementSeen(on: "eth1", mac: Fixture.macA, now: t0)
        _ = try? machine.outboundPathBound(agent: "eth0", epoch: 1, now: t0)
        return machine
    }

    private func response(_ action: VIPActivationStateMachine.Action) -> ConflictResponse? {
        if case .conflict(let response) = action { return response }
        return nil
    }

    @Test("defend: the first claim is defended at once; a claim within 10 s makes the VIP contested (still answering); quiet clears it; a later claim is defended again")
    func defendPolicy() throws {
        var machine = active(.defend)
        let first = try #require(response(machine.claimSeen(by: claimant, now: t0 + .seconds(1))))
        #expect(first.defend?.agent == Fixture.eth0)
        #expect(first.defend?.vip == Fixture.vip)
        #expect(!first.contested)
        #expect(first.logSuppressed == 0)

        let second = try #require(response(machine.claimSeen(by: claimant, now: t0 + .seconds(2))))
        #expect(second.defend == nil, "at most one defence per 10 s")
        #expect(second.contested)
        #expect(second.logSuppressed == nil, "one log line per 10 s")
        #expect(second.timer == ScheduledTimer(id: VIPTimerID(kind: .conflict, epoch: 0), deadline: t0 + .seconds(12)))
        #expect(machine.state.name == "active", "defend keeps answering")
        #expect(machine.conflicts.contest == Contest(claimedBy: claimant, since: t0 + .seconds(2)))

        // The contest's timer fires early (a newer claim pushed it): armed again.
        _ = machine.claimSeen(by: claimant, now: t0 + .seconds(5))
        #expect(machine.timerFired(at: t0 + .seconds(12)) == .schedule(
            ScheduledTimer(id: VIPTimerID(kind: .conflict, epoch: 0), deadline: t0 + .seconds(15))))
        #expect(machine.timerFired(at: t0 + .seconds(15)) == .conflictCleared)
        #expect(machine.conflicts.contest == nil)

        let later = try #require(response(machine.claimSeen(by: claimant, now: t0 + .seconds(16))))
        #expect(later.defend != nil, "more than 10 s after the last defence: defended again")
        #expect(later.logSuppressed == 2, "the claims at +2 s and +5 s were not logged on their own")
    }

    @Test("alarm: never defends, keeps answering, reports the contest")
    func alarmPolicy() throws {
        var machine = active(.alarm)
        let first = try #require(response(machine.claimSeen(by: claimant, now: t0 + .seconds(1))))
        #expect(first.defend == nil)
        #expect(first.contested)
        #expect(machine.state.name == "active")
    }

    @Test("yield: defend once; a second claim within 10 s gives everything back; it rejoins after 60 s without claims")
    func yieldPolicy() throws {
        var machine = active(.yield)
        #expect(machine.isLocalAddress)
        let first = try #require(response(machine.claimSeen(by: claimant, now: t0 + .seconds(1))))
        #expect(first.defend != nil)
        let second = try #require(response(machine.claimSeen(by: claimant, now: t0 + .seconds(3))))
        #expect(second.yield == Release(unbind: "eth0", removesLocalAddress: true, cancel: [.announce]))
        #expect(machine.state == .conflict(Conflicted(claimedBy: claimant, since: t0 + .seconds(3), lastClaimAt: t0 + .seconds(3), epoch: 1)))
        #expect(machine.state.description == "conflict(claimed by \(claimant))")
        #expect(!machine.isLocalAddress)

        // A claim while yielded pushes the retry.
        let third = try #require(response(machine.claimSeen(by: claimant, now: t0 + .seconds(30))))
        #expect(third.timer?.deadline == t0 + .seconds(90))
        #expect(machine.timerFired(at: t0 + .seconds(63)) == .schedule(
            ScheduledTimer(id: VIPTimerID(kind: .conflict, epoch: 0), deadline: t0 + .seconds(90))))
        #expect(machine.timerFired(at: t0 + .seconds(90)) == .rejoin)
        #expect(machine.state.description == "pending(awaiting selection)")
        #expect(machine.conflicts.contest == nil)

        // It activates again through the selector, epoch 2, and probes nothing twice.
        #expect(try machine.agentSelected(Fixture.eth1, decision: 2, now: t0 + .seconds(90)) == .announce(
            Announcement(vip: Fixture.vip, agent: Fixture.eth1, round: 1, retransmission: 0, epoch: 2), timer: nil))
    }

    @Test("one forged frame heard by three adapters is one claim; a flood is one log line per 10 s")
    func dedupAndRateLimit() throws {
        var machine = active(.defend)
        #expect(response(machine.claimSeen(by: claimant, now: t0 + .seconds(1))) != nil)
        #expect(machine.claimSeen(by: claimant, now: t0 + .seconds(1) + .microseconds(40)) == .none)
        #expect(machine.claimSeen(by: claimant, now: t0 + .seconds(1) + .milliseconds(2)) == .none)
        // 20,000 frames over 8 s: one claim counted per 50 ms window, one log line.
        var counted = 0
        var logged = 0
        for index in 1...20_000 {
            let at = t0 + .seconds(1) + .microseconds(400 * Int64(index))
            guard let claim = response(machine.claimSeen(by: claimant, now: at)) else { continue }
            counted += 1
            if claim.logSuppressed != nil { logged += 1 }
        }
        #expect(counted == 160, "8 s of claims, one per 50 ms")
        #expect(logged == 0, "the first line was written at t0+1s; the next is due at t0+11s")
        // A different claimant inside the window is a claim of its own.
        #expect(response(machine.claimSeen(by: Fixture.macC, now: t0 + .seconds(9) + .milliseconds(1))) != nil)
    }

    @Test("a probe answered before the first activation: never claimed, waits like a yielded VIP, then activates")
    func probeAnswered() throws {
        var machine = VIPActivationStateMachine(vip: Fixture.vip, settings: Fixture.vipSettings, now: t0)
        #expect(machine.probeLost(now: t0) == .none, "no claim seen: nothing lost")
        let claim = try #require(response(machine.claimSeen(by: claimant, now: t0 + .milliseconds(50))))
        #expect(claim.defend == nil, "nothing to defend with before activation")
        #expect(machine.probeLost(now: t0 + .milliseconds(200)) == .schedule(
            ScheduledTimer(id: VIPTimerID(kind: .conflict, epoch: 0), deadline: t0 + .milliseconds(50) + .seconds(60))))
        #expect(machine.state.description == "conflict(claimed by \(claimant))")
        #expect(machine.timerFired(at: t0 + .milliseconds(50) + .seconds(60)) == .rejoin)
        #expect(machine.state.name == "pending")
    }

    @Test("withdrawn and failed machines ignore claims")
    func ignoredWhenGone() {
        var machine = active(.defend)
        _ = machine.withdraw(keepLocalAddress: false, now: t0 + .seconds(1))
        let before = machine
        #expect(machine.claimSeen(by: claimant, now: t0 + .seconds(2)) == .none)
        #expect(machine == before)
    }
}

extension VIPActivationStateMachine {
    /// The conflict timer fires at `now`.
    fileprivate mutating func timerFired(at now: Instant) -> Action {
        (try? timerFired(VIPTimerID(kind: .conflict, epoch: 0), now: now)) ?? .none
    }
}
