import ProxyARPCore
import Testing

#if DEBUG
@testable import ProxyARPStateMachines
#else
import ProxyARPStateMachines
#endif

typealias HealthAction = AdapterHealthStateMachine.Action

extension Fixture {
    /// 2 s hold-down, 60 s flap window, factor 16, 3 transmit errors.
    static let healthSettings = AdapterHealthSettings(holdDown: .seconds(2))
}

/// The adapter states a test can ask for by name.
enum AdapterStateName: String, CaseIterable, Codable, Sendable, CustomTestStringConvertible {
    case downUnknown, downNoCarrier, eligible, holdDown, holdDownAfterFlap, removed, failed
    var testDescription: String { rawValue }
}

/// Drives a fresh `eth0` machine to `target`. All but `downUnknown` go through one full
/// hold-down first (hold-down epoch 1), so there is always an earlier epoch to be stale:
///   t0      link up          -> eligible
///   t0+1s   unconfirmed      -> holdDown #1 until t0+3s   (failure at t0+1s)
///   t0+3s   hold-down #1     -> eligible                  (epoch 1)
/// then at t0+5s: carrier lost (downNoCarrier, failure at t0+5s), announcements
/// unconfirmed again (holdDown #2, 2 failures -> 4 s), carrier lost and back at once
/// (holdDownAfterFlap: holdDown #2 for noCarrier until t0+9s, link up: a last resort),
/// link removed (removed).
func adapterMachine(in target: AdapterStateName) -> AdapterHealthStateMachine {
    let t0 = Fixture.t0
    var machine = AdapterHealthStateMachine(adapter: "eth0", settings: Fixture.healthSettings, now: t0)
    guard target != .downUnknown else { return machine }
    _ = machine.linkChanged(adminUp: true, carrier: true, now: t0)
    _ = machine.announcementsUnconfirmed(now: t0 + .seconds(1))
    do { _ = try machine.holdDownExpired(epoch: 1, now: t0 + .seconds(3)) } catch { preconditionFailure("\(error)") }
    let at = t0 + .seconds(5)
    switch target {
    case .downUnknown, .eligible: break
    case .downNoCarrier: _ = machine.linkChanged(adminUp: true, carrier: false, now: at)
    case .holdDown: _ = machine.announcementsUnconfirmed(now: at)
    case .holdDownAfterFlap:
        _ = machine.linkChanged(adminUp: true, carrier: false, now: at)
        _ = machine.linkChanged(adminUp: true, carrier: true, now: at)
    case .removed: _ = machine.linkRemoved(now: at)
    case .failed:
        #if DEBUG
        machine.state = .failed(.init(error: UnreachableTransition(state: "eligible", event: "holdDownExpired(#1)")))
        #else
        _ = try? machine.holdDownExpired(epoch: 1, now: at)
        #endif
    }
    return machine
}

enum AdapterProbe: String, CaseIterable, Codable, Sendable, CustomTestStringConvertible {
    case linkUp, noCarrier, adminDown, linkRemoved, transmitFailed, transmitSucceeded, unconfirmed
    case holdDownExpiredCurrent, holdDownExpiredStale
    var testDescription: String { rawValue }

    static let now = Fixture.t0 + .seconds(10)

    func event(for machine: AdapterHealthStateMachine) -> AdapterHealthEvent {
        let now = Self.now
        let current = machine.holdDownEpoch
        return switch self {
        case .linkUp: .linkChanged(adminUp: true, carrier: true, now: now)
        case .noCarrier: .linkChanged(adminUp: true, carrier: false, now: now)
        case .adminDown: .linkChanged(adminUp: false, carrier: false, now: now)
        case .linkRemoved: .linkRemoved(now: now)
        case .transmitFailed: .transmitFailed(now: now)
        case .transmitSucceeded: .transmitSucceeded(now: now)
        case .unconfirmed: .announcementsUnconfirmed(now: now)
        case .holdDownExpiredCurrent: .holdDownExpired(epoch: current, now: now)
        // The fresh machine has no earlier epoch; its "stale" probe repeats epoch 0.
        case .holdDownExpiredStale: .holdDownExpired(epoch: current == 0 ? 0 : current - 1, now: now)
        }
    }
}

enum AdapterExpectation: Equatable {
    /// Resulting state description and action; `unchanged`: the whole machine is equal.
    case transition(to: String, action: HealthAction, unchanged: Bool)
    case unreachable
}

func expectedAdapter(_ state: AdapterStateName, _ probe: AdapterProbe) -> AdapterExpectation {
    let now = AdapterProbe.now
    func holdDown(_ seconds: Int64, ineligible: IneligibleReason?, cause: IneligibleReason) -> AdapterExpectation {
        let until = now + .seconds(seconds)
        return .transition(
            to: "holdDown(\(cause.rawValue) until \(until.nanoseconds) #2)",
            action: .holdDown(.init(epoch: 2, deadline: until), ineligible: ineligible), unchanged: false)
    }
    let same = AdapterExpectation.transition(to: adapterMachine(in: state).state.description, action: .none, unchanged: true)
    switch (state, probe) {
    case (.failed, _):
        return same
    case (_, .noCarrier) where state != .eligible:
        return .transition(to: "down(noCarrier)", action: .none, unchanged: false)
    case (_, .adminDown) where state != .eligible:
        return .transition(to: "down(adminDown)", action: .none, unchanged: false)
    case (_, .linkRemoved) where state != .eligible:
        return .transition(to: "removed", action: .none, unchanged: false)  // `since` moves

    case (.downUnknown, .linkUp):
        return .transition(to: "eligible(txerr 0)", action: .becameEligible, unchanged: false)
    case (.downUnknown, _):
        return same

    case (.downNoCarrier, .linkUp):
        // Failures at t0+1s and t0+5s are inside the window: 2 s × 2.
        return holdDown(4, ineligible: nil, cause: .noCarrier)
    case (.downNoCarrier, _):
        return same

    case (.eligible, .linkUp), (.eligible, .transmitSucceeded), (.eligible, .holdDownExpiredStale):
        return same
    case (.eligible, .noCarrier):
        return .transition(to: "down(noCarrier)", action: .becameIneligible(.noCarrier), unchanged: false)
    case (.eligible, .adminDown):
        return .transition(to: "down(adminDown)", action: .becameIneligible(.adminDown), unchanged: false)
    case (.eligible, .linkRemoved):
        return .transition(to: "removed", action: .becameIneligible(.removed), unchanged: false)
    case (.eligible, .transmitFailed):
        return .transition(to: "eligible(txerr 1)", action: .none, unchanged: false)
    case (.eligible, .unconfirmed):
        return holdDown(4, ineligible: .unconfirmedAnnouncements, cause: .unconfirmedAnnouncements)
    case (.eligible, .holdDownExpiredCurrent):
        return .unreachable

    case (.holdDown, .holdDownExpiredCurrent), (.holdDownAfterFlap, .holdDownExpiredCurrent):
        return .transition(to: "eligible(txerr 0)", action: .becameEligible, unchanged: false)
    case (.holdDown, _):
        return same

    case (.holdDownAfterFlap, .unconfirmed):
        // A last resort whose announcements are not heard is unfit: held down again for that
        // cause (failures at t0+1s, t0+5s and now: 2 s × 4), no longer a last resort.
        let until = now + .seconds(8)
        return .transition(
            to: "holdDown(unconfirmedAnnouncements until \(until.nanoseconds) #3)",
            action: .holdDown(.init(epoch: 3, deadline: until), ineligible: nil), unchanged: false)
    case (.holdDownAfterFlap, _):
        return same

    case (.removed, .linkUp):
        // Two failures (t0+1s, the removal at t0+5s) inside the window: 2 s × 2, and a
        // re-created adapter always holds down.
        return holdDown(4, ineligible: nil, cause: .removed)
    case (.removed, _):
        return same
    }
}

/// When the machine is a last resort after the cell's event (see
/// `AdapterHealthStateMachine.lastResortUntil`): held down by flap damping alone, link up.
func expectedLastResort(_ state: AdapterStateName, _ probe: AdapterProbe) -> Instant? {
    switch (state, probe) {
    case (.downNoCarrier, .linkUp):
        return AdapterProbe.now + .seconds(4)
    case (.holdDownAfterFlap, .linkUp), (.holdDownAfterFlap, .transmitFailed), (.holdDownAfterFlap, .transmitSucceeded),
        (.holdDownAfterFlap, .holdDownExpiredStale):
        return Fixture.t0 + .seconds(9)
    default:
        return nil
    }
}

struct AdapterCell: Codable, Sendable, CustomTestStringConvertible {
    var state: AdapterStateName
    var probe: AdapterProbe
    var testDescription: String { "\(state.rawValue) + \(probe.rawValue)" }
}

private let allAdapterCells = AdapterStateName.allCases.flatMap { s in AdapterProbe.allCases.map { AdapterCell(state: s, probe: $0) } }
private let adapterUnreachableCells = allAdapterCells.filter { expectedAdapter($0.state, $0.probe) == .unreachable }
private let adapterReachableCells = allAdapterCells.filter { expectedAdapter($0.state, $0.probe) != .unreachable }

@Suite("Adapter health: state × event matrix")
struct AdapterHealthMatrixTests {
    @Test("the drive helper reaches every named state")
    func helperReachesEveryState() {
        #expect(adapterMachine(in: .downUnknown).state.description == "down(unknown)")
        #expect(adapterMachine(in: .downNoCarrier).state.description == "down(noCarrier)")
        #expect(adapterMachine(in: .eligible).state.description == "eligible(txerr 0)")
        #expect(adapterMachine(in: .holdDown).state.name == "holdDown")
        #expect(adapterMachine(in: .holdDown).holdDownEpoch == 2)
        #expect(adapterMachine(in: .holdDown).lastResortUntil == nil)
        #expect(adapterMachine(in: .holdDownAfterFlap).state.description
            == "holdDown(noCarrier until \((Fixture.t0 + .seconds(9)).nanoseconds) #2)")
        #expect(adapterMachine(in: .holdDownAfterFlap).lastResortUntil == Fixture.t0 + .seconds(9))
        #expect(adapterMachine(in: .removed).state.description == "removed")
        #expect(adapterMachine(in: .failed).state.name == "failed")
        let usable = AdapterStateName.allCases.filter { adapterMachine(in: $0).hasUsableLink }
        #expect(usable == [.eligible, .holdDown, .holdDownAfterFlap], "a usable link: eligible or held down with the link up")
        #expect(allAdapterCells.count == 63)
        #expect(adapterUnreachableCells.count == 1)
    }

    @Test("reachable cells: resulting state and action", arguments: adapterReachableCells)
    func reachable(_ cell: AdapterCell) throws {
        var machine = adapterMachine(in: cell.state)
        let before = machine
        guard case .transition(let to, let expectedAction, let unchanged) = expectedAdapter(cell.state, cell.probe) else {
            Issue.record("not reachable")
            return
        }
        let action = try machine.handle(cell.probe.event(for: machine))
        #expect(machine.state.description == to)
        #expect(action == expectedAction, "\(action)")
        #expect(action.description == expectedAction.description)
        if unchanged { #expect(machine == before) }
        #expect(machine.lastResortUntil == expectedLastResort(cell.state, cell.probe))
        #expect(machine.isEligible == (machine.state.name == "eligible"))
        // Cluster mode releases the host's units only when no adapter has a usable link: a
        // lost link never has one; a hold-down with the link up (any cause) keeps it.
        switch cell.probe {
        case .noCarrier, .adminDown, .linkRemoved: #expect(!machine.hasUsableLink)
        case .unconfirmed, .transmitFailed, .linkUp: if machine.state.name == "holdDown" { #expect(machine.hasUsableLink) }
        default: break
        }
        #expect((machine.ineligibleReason == nil) == machine.isEligible)
    }

    /// See the VIP matrix: `assertionFailure` traps under `swift test` (debug), so the bug
    /// is proved in a child process and its stderr carries the classification; in release
    /// builds the throw and the isolation are checked in-process.
    @Test("bug-class cells throw UnreachableTransition and isolate the adapter", arguments: adapterUnreachableCells)
    func unreachable(_ cell: AdapterCell) async throws {
        #if DEBUG
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) { [cell] in
            var machine = adapterMachine(in: cell.state)
            _ = try? machine.handle(cell.probe.event(for: machine))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("unreachable adapter transition"), "\(stderr)")
        #expect(stderr.contains("state: \"eligible\", event: \"holdDownExpired(#1)\""), "\(stderr)")
        #else
        var machine = adapterMachine(in: cell.state)
        #expect(throws: UnreachableTransition.self) { _ = try machine.handle(cell.probe.event(for: machine)) }
        #expect(machine.state.name == "failed")
        #expect(machine.ineligibleReason == .failed)
        for probe in AdapterProbe.allCases {
            #expect(try machine.handle(probe.event(for: machine)) == .none)
            #expect(machine.state.name == "failed")
        }
        #endif
    }
}

@Suite("Adapter health: scenarios")
struct AdapterHealthScenarioTests {
    let t0 = Fixture.t0

    @Test("flap damping: hold-downs 2, 4, 8, 16, 32 s, capped at factor 16, back to base after a quiet window")
    func flapDamping() throws {
        var machine = AdapterHealthStateMachine(adapter: "eth0", settings: Fixture.healthSettings, now: t0)
        #expect(machine.linkChanged(adminUp: true, carrier: true, now: t0) == .becameEligible)

        var now = t0
        var holdDowns: [Duration] = []
        for bounce in 1...6 {
            now = now + .seconds(1)
            let down = machine.linkChanged(adminUp: true, carrier: false, now: now)
            // Only the first loss happens while eligible; later ones interrupt a hold-down.
            #expect(down == (bounce == 1 ? HealthAction.becameIneligible(.noCarrier) : .none))
            now = now + .milliseconds(100)
            guard case .holdDown(let timer, let ineligible) = machine.linkChanged(adminUp: true, carrier: true, now: now) else {
                Issue.record("bounce \(bounce): no hold-down")
                return
            }
            #expect(ineligible == nil)
            #expect(timer.epoch == UInt64(bounce))
            holdDowns.append(timer.deadline.duration(since: now))
        }
        #expect(holdDowns == [.seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(32), .seconds(32)])

        // The last hold-down runs out: eligible again.
        guard case .holdDown(let last) = machine.state else { Issue.record("not in hold-down"); return }
        #expect(try machine.holdDownExpired(epoch: last.epoch, now: last.until) == .becameEligible)

        // A full window without failures: the next failure gets the base hold-down.
        now = now + .seconds(61)
        #expect(machine.holdDownDuration(now: now) == .seconds(2))
        _ = machine.linkChanged(adminUp: true, carrier: false, now: now)
        guard case .holdDown(let timer, _) = machine.linkChanged(adminUp: true, carrier: true, now: now + .milliseconds(100)) else {
            Issue.record("no hold-down")
            return
        }
        #expect(timer.deadline == now + .milliseconds(100) + .seconds(2))
        #expect(machine.recentFailures == [now], "failures outside the window are forgotten")
    }

    @Test("a link down long enough for the window to pass comes back eligible at once")
    func quietLinkComesBackDirectly() {
        var machine = AdapterHealthStateMachine(adapter: "eth0", settings: Fixture.healthSettings, now: t0)
        _ = machine.linkChanged(adminUp: true, carrier: true, now: t0)
        #expect(machine.linkChanged(adminUp: false, carrier: false, now: t0 + .seconds(1)) == .becameIneligible(.adminDown))
        #expect(machine.linkChanged(adminUp: true, carrier: true, now: t0 + .seconds(62)) == .becameEligible)
    }

    @Test("transmit errors: the threshold in a row makes the adapter ineligible; a success resets the streak",
          arguments: [1, 3, 5])
    func transmitErrorThreshold(threshold: Int) throws {
        let settings = AdapterHealthSettings(holdDown: .seconds(2), transmitErrorThreshold: threshold)
        var machine = AdapterHealthStateMachine(adapter: "eth0", settings: settings, now: t0)
        _ = machine.linkChanged(adminUp: true, carrier: true, now: t0)

        for _ in 1..<threshold { #expect(machine.transmitFailed(now: t0) == .none) }
        #expect(machine.state.description == "eligible(txerr \(threshold - 1))")
        #expect(machine.transmitSucceeded(now: t0) == .none)
        #expect(machine.state.description == "eligible(txerr 0)")

        let at = t0 + .seconds(1)
        for _ in 1..<threshold { #expect(machine.transmitFailed(now: at) == .none) }
        #expect(machine.transmitFailed(now: at)
            == HealthAction.holdDown(.init(epoch: 1, deadline: at + .seconds(2)), ineligible: .transmitErrors))
        #expect(machine.ineligibleReason == .holdDown)
        guard case .holdDown(let holdDown) = machine.state else { Issue.record("not in hold-down"); return }
        #expect(holdDown.cause == .transmitErrors)
        #expect(holdDown.linkUp)
        // More errors while held down change nothing.
        #expect(machine.transmitFailed(now: at) == .none)
        #expect(try machine.holdDownExpired(epoch: 1, now: at + .seconds(2)) == .becameEligible)
        #expect(machine.state.description == "eligible(txerr 0)")
    }

    @Test("a hold-down timer of an earlier epoch is ignored")
    func staleHoldDownIgnored() throws {
        var machine = AdapterHealthStateMachine(adapter: "eth0", settings: Fixture.healthSettings, now: t0)
        _ = machine.linkChanged(adminUp: true, carrier: true, now: t0)
        _ = machine.announcementsUnconfirmed(now: t0 + .seconds(1))  // hold-down #1
        _ = machine.linkChanged(adminUp: true, carrier: false, now: t0 + .seconds(2))
        _ = machine.linkChanged(adminUp: true, carrier: true, now: t0 + .seconds(2.5))  // hold-down #2
        #expect(machine.holdDownEpoch == 2)
        let before = machine
        #expect(try machine.holdDownExpired(epoch: 1, now: t0 + .seconds(3)) == .none)
        #expect(machine == before)
        #expect(try machine.holdDownExpired(epoch: 2, now: t0 + .seconds(6.5)) == .becameEligible)
    }

    @Test("a hold-down fire after the link went down is ignored, even for the current epoch")
    func holdDownFireWhileDown() throws {
        var machine = AdapterHealthStateMachine(adapter: "eth0", settings: Fixture.healthSettings, now: t0)
        _ = machine.linkChanged(adminUp: true, carrier: true, now: t0)
        _ = machine.announcementsUnconfirmed(now: t0 + .seconds(1))
        _ = machine.linkChanged(adminUp: false, carrier: false, now: t0 + .seconds(2))
        #expect(try machine.holdDownExpired(epoch: 1, now: t0 + .seconds(3)) == .none)
        #expect(machine.state.description == "down(adminDown)")
    }

    @Test("a hold-down longer than the flap window: its timer, left armed when the link went down, is stale once the link is back")
    func longHoldDownTimerStale() throws {
        // 5 s × 16 = 80 s of hold-down, longer than the 60 s window. Nothing stops an operator
        // from configuring this.
        let settings = AdapterHealthSettings(holdDown: .seconds(5))
        var machine = AdapterHealthStateMachine(adapter: "eth0", settings: settings, now: t0)
        _ = machine.linkChanged(adminUp: true, carrier: true, now: t0)
        var now = t0
        var lastDeadline = t0
        for _ in 1...5 {  // bounce up to the maximum hold-down
            now = now + .seconds(1)
            _ = machine.linkChanged(adminUp: true, carrier: false, now: now)
            if case .holdDown(let timer, _) = machine.linkChanged(adminUp: true, carrier: true, now: now) {
                lastDeadline = timer.deadline
            }
        }
        #expect(lastDeadline == now + .seconds(80))
        // The link drops during the hold-down and stays away past the flap window.
        _ = machine.linkChanged(adminUp: true, carrier: false, now: now + .seconds(1))
        #expect(machine.linkChanged(adminUp: true, carrier: true, now: now + .seconds(62)) == .becameEligible)
        // The timer armed for the hold-down fires at its deadline, after the adapter is
        // eligible again. It belongs to an interrupted hold-down: stale, not a bug.
        #expect(machine.holdDownEpoch == 5)
        let before = machine.state
        #expect(try machine.holdDownExpired(epoch: 5, now: lastDeadline) == .none)
        #expect(machine.state == before)
        #expect(machine.isEligible)
    }

    @Test("removal: ineligible at once if it was eligible; a re-created link is eligible only after a hold-down")
    func removal() throws {
        var machine = AdapterHealthStateMachine(adapter: "eth0", settings: Fixture.healthSettings, now: t0)
        _ = machine.linkChanged(adminUp: true, carrier: true, now: t0)
        #expect(machine.linkRemoved(now: t0 + .seconds(1)) == .becameIneligible(.removed))
        #expect(machine.ineligibleReason == .removed)
        let action = machine.linkChanged(adminUp: true, carrier: true, now: t0 + .seconds(2))
        guard case .holdDown(let timer, ineligible: nil) = action else {
            Issue.record("expected a hold-down, got \(action)")
            return
        }
        #expect(machine.ineligibleReason == .holdDown)
        #expect(try machine.holdDownExpired(epoch: timer.epoch, now: timer.deadline) == .becameEligible)
    }

    @Test("a re-created link that comes up long after its removal (past the flap window) still holds down")
    func removalLongAgo() {
        var machine = AdapterHealthStateMachine(adapter: "eth0", settings: Fixture.healthSettings, now: t0)
        #expect(machine.linkRemoved(now: t0) == .none)
        // Re-created without carrier first, then up after the flap window forgot the removal.
        #expect(machine.linkChanged(adminUp: true, carrier: false, now: t0 + .seconds(1)) == .none)
        let later = t0 + .seconds(600)
        guard case .holdDown = machine.linkChanged(adminUp: true, carrier: true, now: later) else {
            Issue.record("expected a hold-down")
            return
        }
        #expect(!machine.isEligible)
    }
}
