import ProxyARPCore
import Testing

#if DEBUG
@testable import ProxyARPStateMachines
#else
import ProxyARPStateMachines
#endif

// MARK: - Fixtures and the drive-to-state helper

extension Fixture {
    static func agent(_ name: AdapterName, confirmation: ConfirmationPolicy = .sibling) -> Agent {
        switch name {
        case "eth0": Agent(name: name, mac: macA, localAddress: IPv4Address(198, 18, 0, 10), confirmation: confirmation)
        case "eth1": Agent(name: name, mac: macB, localAddress: IPv4Address(198, 18, 0, 11), confirmation: confirmation)
        default: Agent(name: name, mac: macC, localAddress: IPv4Address(198, 18, 4, 10), confirmation: confirmation)
        }
    }

    static let eth0 = agent("eth0")
    static let eth1 = agent("eth1")
    /// `eth0` after its address changed.
    static let eth0Renumbered = Agent(name: "eth0", mac: eth0.mac, localAddress: IPv4Address("198.18.0.99"), confirmation: eth0.confirmation)

    /// The documented defaults: 3 rounds 1.2 s apart, 250 ms confirmation, 2 retries, no refresh.
    static let vipSettings = VIPActivationSettings(
        announceCount: 3, announceInterval: .milliseconds(1200), confirmTimeout: .milliseconds(250),
        confirmRetries: 2, refreshInterval: nil
    )
}

/// The states a test can ask for by name.
enum VIPStateName: String, CaseIterable, Codable, Sendable, CustomTestStringConvertible {
    case pending, broadcast, enqueued, active, conflict, withdrawn, failed
    var testDescription: String { rawValue }
}

/// Drives a fresh machine (VIP 198.18.0.100, agent eth0, sibling policy) to `target`.
///
/// Every live state is reached through attempt (epoch) 1, so epoch 1 is "current" and
/// epoch 0 is "stale" for all of them:
/// - pending:   selected eth0 (decision 1), then lost it while broadcasting (decision 2)
///              -> pending(agent eth0 lost), epoch 1
/// - broadcast: selected eth0 at t0 (decision 1) -> broadcast(eth0 epoch 1)
/// - enqueued:  + heard on sibling eth1 at t0+10ms
/// - active:    + outbound path bound at t0+20ms
/// - conflict:  active under policy `yield`, claimed by a foreign MAC at t0+30ms (defended)
///              and again at t0+100ms (yielded)
/// - withdrawn: active + withdraw
/// - failed:    active, then isolated by a bug (see `isolate`)
func vipMachine(
    in target: VIPStateName, confirmation: ConfirmationPolicy = .sibling,
    settings: VIPActivationSettings = Fixture.vipSettings
) -> VIPActivationStateMachine {
    let t0 = Fixture.t0
    let agent = Fixture.agent("eth0", confirmation: confirmation)
    var settings = settings
    if target == .conflict { settings.conflicts.policy = .yield }
    var machine = VIPActivationStateMachine(vip: Fixture.vip, settings: settings, now: t0)
    do {
        _ = try machine.agentSelected(agent, decision: 1, now: t0)
        switch target {
        case .broadcast:
            return machine
        case .pending:
            _ = machine.agentLost("eth0", decision: 2, now: t0 + .milliseconds(5))
            return machine
        default:
            break
        }
        _ = machine.announcementTransmitted(agent: "eth0", epoch: 1, now: t0)
        _ = machine.announcementSeen(on: "eth1", mac: agent.mac, now: t0 + .milliseconds(10))
        if target == .enqueued { return machine }
        _ = try machine.outboundPathBound(agent: "eth0", epoch: 1, now: t0 + .milliseconds(20))
        switch target {
        case .active: return machine
        case .conflict:
            _ = machine.claimSeen(by: Fixture.foreignMAC, now: t0 + .milliseconds(30))
            _ = machine.claimSeen(by: Fixture.foreignMAC, now: t0 + .milliseconds(100))
            return machine
        case .withdrawn:
            _ = machine.withdraw(keepLocalAddress: false, now: t0 + .milliseconds(30))
            return machine
        case .failed:
            isolate(&machine)
            return machine
        default: preconditionFailure("unreachable target \(target)")
        }
    } catch {
        preconditionFailure("driving to \(target) hit \(error)")
    }
}

/// Puts an active machine into `failed`. In debug builds the real path traps in
/// `assertionFailure`, so the state is set directly (`@testable`); in release builds the
/// real bug-class event is used.
private func isolate(_ machine: inout VIPActivationStateMachine) {
    #if DEBUG
    machine.state = .failed(.init(error: UnreachableTransition(state: "active", event: "agentSelected(eth0) for the agent it already has")))
    #else
    _ = try? machine.agentSelected(Fixture.eth0, decision: 9, now: Fixture.t0 + .milliseconds(30))
    #endif
}

/// Every event of the matrix, probed against every state.
enum VIPProbe: String, CaseIterable, Codable, Sendable, CustomTestStringConvertible {
    case selectedSame, selectedOther, selectedStale, noAgent, agentLost, agentLostStale
    case seenOnSibling, seenOnAgent, seenForeign
    case transmittedCurrent, transmittedStale, notSentCurrent, notSentStale
    case confirmFiredCurrent, confirmFiredStale, announceFiredCurrent, announceFiredStale
    case pathBoundMatching, pathBoundOther
    case withdraw, withdrawKeepingLocal
    case claimForeign, conflictFired, probeLost
    case addressChangedSame, addressChangedOther

    var testDescription: String { rawValue }

    static let now = Fixture.t0 + .seconds(5)

    var event: VIPActivationEvent {
        let now = Self.now
        return switch self {
        case .selectedSame: .agentSelected(Fixture.eth0, decision: 10, now: now)
        case .selectedOther: .agentSelected(Fixture.eth1, decision: 10, now: now)
        case .selectedStale: .agentSelected(Fixture.eth1, decision: 1, now: now)
        case .noAgent: .noAgentAvailable(decision: 10, now: now)
        case .agentLost: .agentLost("eth0", decision: 10, now: now)
        case .agentLostStale: .agentLost("eth0", decision: 1, now: now)
        case .seenOnSibling: .announcementSeen(on: "eth1", mac: Fixture.macA, now: now)
        case .seenOnAgent: .announcementSeen(on: "eth0", mac: Fixture.macA, now: now)
        case .seenForeign: .announcementSeen(on: "eth1", mac: Fixture.foreignMAC, now: now)
        case .transmittedCurrent: .announcementTransmitted(agent: "eth0", epoch: 1, now: now)
        case .transmittedStale: .announcementTransmitted(agent: "eth0", epoch: 0, now: now)
        case .notSentCurrent: .announcementNotSent(agent: "eth0", epoch: 1, now: now)
        case .notSentStale: .announcementNotSent(agent: "eth0", epoch: 0, now: now)
        case .confirmFiredCurrent: .timerFired(VIPTimerID(kind: .confirm, epoch: 1), now: now)
        case .confirmFiredStale: .timerFired(VIPTimerID(kind: .confirm, epoch: 0), now: now)
        case .announceFiredCurrent: .timerFired(VIPTimerID(kind: .announce, epoch: 1), now: now)
        case .announceFiredStale: .timerFired(VIPTimerID(kind: .announce, epoch: 0), now: now)
        case .pathBoundMatching: .outboundPathBound(agent: "eth0", epoch: 1, now: now)
        case .pathBoundOther: .outboundPathBound(agent: "eth1", epoch: 1, now: now)
        case .withdraw: .withdraw(keepLocalAddress: false, now: now)
        case .withdrawKeepingLocal: .withdraw(keepLocalAddress: true, now: now)
        case .claimForeign: .claimSeen(by: Fixture.foreignMAC, now: now)
        case .conflictFired: .timerFired(VIPTimerID(kind: .conflict, epoch: 0), now: now)
        case .probeLost: .probeLost(now: now)
        case .addressChangedSame: .agentAddressChanged(Fixture.eth0Renumbered, now: now)
        case .addressChangedOther: .agentAddressChanged(Fixture.eth1, now: now)
        }
    }
}

/// What a cell of the matrix must do.
enum VIPExpectation: Equatable {
    /// Move to `to` (or stay) and return `action`. With `unchanged`, the whole machine
    /// must equal the one before (no hidden counter moved).
    case transition(to: VIPStateName, action: VIPActivationStateMachine.Action, unchanged: Bool)
    /// A bug in our own code: throws `UnreachableTransition`, machine ends in `failed`.
    case unreachable

    static func ignored(_ state: VIPStateName) -> Self { .transition(to: state, action: .none, unchanged: true) }
}

/// The expected outcome of every (state × event) pair: the transition table of
/// VIPActivationStateMachine.swift, written out cell by cell.
func expectedVIP(_ state: VIPStateName, _ probe: VIPProbe) -> VIPExpectation {
    let now = VIPProbe.now
    // The confirmation window of attempt 1 opens when its round left: now + the timeout.
    let confirm1 = ScheduledTimer(id: VIPTimerID(kind: .confirm, epoch: 1), deadline: now + .milliseconds(250))
    func round1(_ agent: Agent, epoch: UInt64, retx: Int = 0) -> Announcement {
        Announcement(vip: Fixture.vip, agent: agent, round: 1, retransmission: retx, epoch: epoch)
    }
    func release(_ unbind: AdapterName?, removes: Bool, cancel: [VIPTimerKind]) -> VIPActivationStateMachine.Action {
        .release(Release(unbind: unbind, removesLocalAddress: removes, cancel: cancel))
    }
    func defended(_ agent: Agent) -> VIPExpectation {
        .transition(
            to: state,
            action: .conflict(
                ConflictResponse(
                    claimedBy: Fixture.foreignMAC,
                    defend: Announcement(vip: Fixture.vip, agent: agent, round: 0, retransmission: 0, epoch: 1),
                    contested: false, logSuppressed: 0, timer: nil, yield: nil)),
            unchanged: false)
    }
    func conflictTimer(_ deadline: Instant) -> ScheduledTimer {
        ScheduledTimer(id: VIPTimerID(kind: .conflict, epoch: 0), deadline: deadline)
    }
    func move(cancel: [VIPTimerKind]) -> VIPExpectation {
        .transition(to: .broadcast, action: .move(round1(Fixture.eth1, epoch: 2), cancel: cancel), unchanged: false)
    }
    // Same agent, its new local address recorded; nothing to do.
    let renumbered = VIPExpectation.transition(to: state, action: .none, unchanged: false)
    switch state {
    case .failed:
        return .ignored(state)

    case .conflict:
        switch probe {
        case .pathBoundMatching:
            return .transition(to: .conflict, action: release("eth0", removes: false, cancel: []), unchanged: true)
        case .pathBoundOther:
            return .transition(to: .conflict, action: release("eth1", removes: false, cancel: []), unchanged: true)
        case .withdraw, .withdrawKeepingLocal:
            return .transition(to: .withdrawn, action: release(nil, removes: false, cancel: [.conflict]), unchanged: false)
        case .claimForeign:
            // Logged at t0+30ms: this claim falls in the same interval and is not logged.
            return .transition(
                to: .conflict,
                action: .conflict(
                    ConflictResponse(
                        claimedBy: Fixture.foreignMAC, defend: nil, contested: true, logSuppressed: nil,
                        timer: conflictTimer(now + .seconds(60)), yield: nil)),
                unchanged: false)
        case .conflictFired:
            // The last claim was at t0+100ms: it retries 60 s after that.
            return .transition(
                to: .conflict, action: .schedule(conflictTimer(Fixture.t0 + .milliseconds(100) + .seconds(60))), unchanged: true)
        default:
            return .ignored(.conflict)
        }

    case .withdrawn:
        switch probe {
        case .pathBoundMatching:
            // A bind that finished after the release: undone (the release already took the
            // VIP off `lo`).
            return .transition(to: .withdrawn, action: release("eth0", removes: false, cancel: []), unchanged: true)
        case .pathBoundOther:
            return .transition(to: .withdrawn, action: release("eth1", removes: false, cancel: []), unchanged: true)
        default:
            return .ignored(state)
        }

    case .pending:
        switch probe {
        case .selectedSame:
            // No timer yet: the confirmation window opens when the round has left.
            return .transition(to: .broadcast, action: .announce(round1(Fixture.eth0, epoch: 2), timer: nil), unchanged: false)
        case .selectedOther:
            return .transition(to: .broadcast, action: .announce(round1(Fixture.eth1, epoch: 2), timer: nil), unchanged: false)
        case .noAgent:
            // The reason changes to "no eligible adapter".
            return .transition(to: .pending, action: .none, unchanged: false)
        case .agentLost:
            // Same reason; the newer decision is taken.
            return .transition(to: .pending, action: .none, unchanged: false)
        case .pathBoundMatching, .pathBoundOther:
            // A bind that completed after the agent was lost: remembered for make-before-break.
            return .transition(to: .pending, action: .none, unchanged: false)
        case .withdraw, .withdrawKeepingLocal:
            return .transition(to: .withdrawn, action: release(nil, removes: false, cancel: []), unchanged: false)
        case .claimForeign:
            // No agent to defend with: contested, reported.
            return .transition(
                to: .pending,
                action: .conflict(
                    ConflictResponse(
                        claimedBy: Fixture.foreignMAC, defend: nil, contested: true, logSuppressed: 0,
                        timer: conflictTimer(now + .seconds(10)), yield: nil)),
                unchanged: false)
        case .selectedStale, .agentLostStale, .seenOnSibling, .seenOnAgent, .seenForeign, .transmittedCurrent,
            .transmittedStale, .notSentCurrent, .notSentStale, .confirmFiredCurrent, .confirmFiredStale, .announceFiredCurrent,
            .announceFiredStale, .conflictFired, .probeLost, .addressChangedSame, .addressChangedOther:
            return .ignored(.pending)
        }

    case .broadcast:
        switch probe {
        case .selectedSame, .announceFiredCurrent, .pathBoundMatching, .pathBoundOther:
            return .unreachable
        case .selectedOther:
            return move(cancel: [])
        case .noAgent, .agentLost:
            return .transition(to: .pending, action: .cancelTimers([.confirm]), unchanged: false)
        case .seenOnSibling:
            return .transition(
                to: .enqueued,
                action: .publish(
                    Publication(agent: Fixture.eth0, replacing: nil, addsLocalAddress: true, cancel: VIPTimerID(kind: .confirm, epoch: 1))),
                unchanged: false)
        case .seenOnAgent:
            // Sibling policy: the outbound copy is noted, not accepted.
            return .transition(to: .broadcast, action: .none, unchanged: false)
        case .confirmFiredCurrent:
            // Retransmitted; its own window opens when it has left.
            return .transition(to: .broadcast, action: .announce(round1(Fixture.eth0, epoch: 1, retx: 1), timer: nil), unchanged: false)
        case .transmittedCurrent:
            // The round left now (sibling policy): last sent now, the window runs from here.
            return .transition(to: .broadcast, action: .schedule(confirm1), unchanged: false)
        case .notSentCurrent:
            // The send failed: the window opens all the same (retry, then give the agent up).
            return .transition(to: .broadcast, action: .schedule(confirm1), unchanged: true)
        case .withdraw, .withdrawKeepingLocal:
            return .transition(to: .withdrawn, action: release(nil, removes: false, cancel: [.confirm]), unchanged: false)
        case .claimForeign:
            return defended(Fixture.eth0)
        case .addressChangedSame:
            return renumbered
        case .selectedStale, .agentLostStale, .seenForeign, .transmittedStale, .notSentStale, .confirmFiredStale,
            .announceFiredStale, .conflictFired, .probeLost, .addressChangedOther:
            return .ignored(.broadcast)
        }

    case .enqueued:
        switch probe {
        case .selectedSame, .confirmFiredCurrent, .announceFiredCurrent, .pathBoundOther:
            return .unreachable
        case .selectedOther:
            return move(cancel: [])
        case .noAgent, .agentLost:
            return .transition(to: .pending, action: .none, unchanged: false)
        case .pathBoundMatching:
            // Round 1 went out at t0: round 2 is due one interval after it.
            return .transition(
                to: .active,
                action: .activated(
                    Activation(
                        agent: Fixture.eth0, previous: nil, isFailover: false, took: now.duration(since: Fixture.t0),
                        timer: ScheduledTimer(id: VIPTimerID(kind: .announce, epoch: 1), deadline: Fixture.t0 + .milliseconds(1200)))),
                unchanged: false)
        case .withdraw:
            return .transition(to: .withdrawn, action: release("eth0", removes: true, cancel: []), unchanged: false)
        case .withdrawKeepingLocal:
            return .transition(to: .withdrawn, action: release("eth0", removes: false, cancel: []), unchanged: false)
        case .claimForeign:
            return defended(Fixture.eth0)
        case .addressChangedSame:
            return renumbered
        case .selectedStale, .agentLostStale, .seenOnSibling, .seenOnAgent, .seenForeign, .transmittedCurrent,
            .transmittedStale, .notSentCurrent, .notSentStale, .confirmFiredStale, .announceFiredStale, .conflictFired,
            .probeLost, .addressChangedOther:
            return .ignored(.enqueued)
        }

    case .active:
        switch probe {
        case .selectedSame, .confirmFiredCurrent, .pathBoundMatching, .pathBoundOther:
            return .unreachable
        case .selectedOther:
            return move(cancel: [.announce])
        case .noAgent, .agentLost:
            return .transition(to: .pending, action: .cancelTimers([.announce]), unchanged: false)
        case .seenOnSibling, .seenOnAgent:
            // Our own announcement heard again: counted.
            return .transition(to: .active, action: .none, unchanged: false)
        case .announceFiredCurrent:
            return .transition(
                to: .active,
                action: .announce(
                    Announcement(vip: Fixture.vip, agent: Fixture.eth0, round: 2, retransmission: 0, epoch: 1),
                    timer: ScheduledTimer(id: VIPTimerID(kind: .announce, epoch: 1), deadline: now + .milliseconds(1200))),
                unchanged: false)
        case .withdraw:
            return .transition(to: .withdrawn, action: release("eth0", removes: true, cancel: [.announce]), unchanged: false)
        case .withdrawKeepingLocal:
            return .transition(to: .withdrawn, action: release("eth0", removes: false, cancel: [.announce]), unchanged: false)
        case .claimForeign:
            return defended(Fixture.eth0)
        case .addressChangedSame:
            return renumbered
        case .selectedStale, .agentLostStale, .seenForeign, .transmittedCurrent, .transmittedStale, .notSentCurrent,
            .notSentStale, .confirmFiredStale, .announceFiredStale, .conflictFired, .probeLost, .addressChangedOther:
            return .ignored(.active)
        }
    }
}

/// A cell of the matrix.
struct VIPCell: Codable, Sendable, CustomTestStringConvertible {
    var state: VIPStateName
    var probe: VIPProbe
    var testDescription: String { "\(state.rawValue) + \(probe.rawValue)" }
}

private let allVIPCells = VIPStateName.allCases.flatMap { s in VIPProbe.allCases.map { VIPCell(state: s, probe: $0) } }
let vipUnreachableCells = allVIPCells.filter { expectedVIP($0.state, $0.probe) == .unreachable }
private let vipReachableCells = allVIPCells.filter { expectedVIP($0.state, $0.probe) != .unreachable }

// MARK: - The (state × event) matrix

@Suite("VIP activation: state × event matrix")
struct VIPActivationMatrixTests {
    @Test("the drive helper reaches every named state")
    func helperReachesEveryState() {
        for name in VIPStateName.allCases {
            let machine = vipMachine(in: name)
            #expect(machine.state.name == name.rawValue)
            if name != .withdrawn && name != .failed { #expect(machine.currentEpoch == 1) }
        }
    }

    @Test("the matrix covers 182 cells, 12 of them bug-class")
    func matrixShape() {
        #expect(allVIPCells.count == VIPStateName.allCases.count * VIPProbe.allCases.count)
        #expect(allVIPCells.count == 182)
        #expect(vipUnreachableCells.count == 12)
    }

    @Test("reachable cells: resulting state and action", arguments: vipReachableCells)
    func reachable(_ cell: VIPCell) throws {
        var machine = vipMachine(in: cell.state)
        let before = machine
        guard case .transition(let to, let expectedAction, let unchanged) = expectedVIP(cell.state, cell.probe) else {
            Issue.record("not a reachable cell")
            return
        }
        let action = try machine.handle(cell.probe.event)
        #expect(machine.state.name == to.rawValue)
        #expect(action == expectedAction, "\(action)")
        if unchanged {
            #expect(machine == before)
        } else {
            #expect(machine != before, "the cell claims the machine changes")
        }
        // Description and action text never crash and name the state.
        #expect(machine.state.description.hasPrefix(to.rawValue))
        #expect(action.description == expectedAction.description)
    }

    /// Bug-class cells. `assertionFailure` traps in debug builds (which `swift test` uses
    /// by default), so there the event is delivered in a child process (an exit test): it
    /// must crash, and its stderr must carry the classification the machine made (state
    /// name and event). In release builds (`swift test -c release -Xswiftc -enable-testing`)
    /// the assertion is compiled out and the cell is checked in-process: the event throws
    /// `UnreachableTransition`, the machine is `failed` and stays so.
    @Test("bug-class cells throw UnreachableTransition and isolate the VIP", arguments: vipUnreachableCells)
    func unreachable(_ cell: VIPCell) async throws {
        #if DEBUG
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) { [cell] in
            var machine = vipMachine(in: cell.state)
            _ = try? machine.handle(cell.probe.event)
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("unreachable VIP transition"), "\(stderr)")
        #expect(stderr.contains("state: \"\(cell.state.rawValue)\""), "\(stderr)")
        #expect(stderr.contains("event: \"\(cell.probe.event.name.replacingTimerNames())"), "\(stderr)")
        #else
        var machine = vipMachine(in: cell.state)
        #expect(throws: UnreachableTransition.self) { _ = try machine.handle(cell.probe.event) }
        guard case .failed(let failed) = machine.state else {
            Issue.record("expected failed, got \(machine.state)")
            return
        }
        #expect(failed.error.state == cell.state.rawValue)
        // Isolated: every later event is a no-op.
        for probe in VIPProbe.allCases {
            let before = machine
            #expect(try machine.handle(probe.event) == .none)
            #expect(machine == before)
        }
        #endif
    }
}

extension String {
    /// The machine's error text names timers `confirm timer` / `announce timer`, and other
    /// events by their method name; the event's `name` is `confirmTimerFired` etc.
    fileprivate func replacingTimerNames() -> String {
        switch self {
        case "confirmTimerFired": "confirm timer"
        case "announceTimerFired": "announce timer"
        default: self
        }
    }
}
