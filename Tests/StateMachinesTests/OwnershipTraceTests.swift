import ProxyARPCore
import ProxyARPStateMachines
import Testing

/// Records ownership machines the way the cluster coordinator does: a creation record, then
/// one record per event with the machine's description before and after and its action.
private struct OwnershipRecorder {
    var records: [MachineTraceRecord] = []
    var machines: [String: OwnershipStateMachine] = [:]
    let host: String

    mutating func create(_ unit: String, now: Instant) {
        let machine = OwnershipStateMachine(unit: unit, host: host)
        machines[unit] = machine
        append(now, unit, .ownershipCreated(OwnershipCreation(host: host, settings: machine.settings)), "", machine.description, "none")
    }

    @discardableResult
    mutating func feed(_ unit: String, _ event: OwnershipEvent, now: Instant) throws -> OwnershipAction {
        var machine = machines[unit]!
        let from = machine.description
        let action = try machine.handle(event, now: now)
        machines[unit] = machine
        append(now, unit, .ownership(event), from, machine.description, action.description)
        return action
    }

    private mutating func append(_ now: Instant, _ unit: String, _ event: MachineEvent, _ from: String, _ to: String, _ action: String) {
        records.append(
            MachineTraceRecord(
                sequence: UInt64(records.count + 1), monotonic: now, wallNanoseconds: 1_700_000_000_000_000_000 + now.nanoseconds,
                subject: .unit(unit), event: event, from: from, to: to, action: action))
    }
}

@Suite("Ownership trace: records of cluster units replay and read as milestones")
struct OwnershipTraceTests {
    static let unit = "198.18.4.0/26"
    static let other = OwnershipHolder(host: "lb2", token: FencingToken(rawValue: 7), isOurs: false)

    /// lb1 claims a free unit, is fenced and unfenced, loses it to lb2 (its lease ran out),
    /// takes it over when lb2's key goes, then releases it (no eligible NIC).
    fileprivate static func scenario() throws -> OwnershipRecorder {
        var recorder = OwnershipRecorder(host: "lb1")
        let t = Fixture.t0
        recorder.create(unit, now: t)
        try recorder.feed(unit, .observed(nil), now: t)
        try recorder.feed(unit, .eligibilityChanged(eligible: true, rank: 0), now: t + .milliseconds(1))
        try recorder.feed(unit, .claimSucceeded(FencingToken(rawValue: 5)), now: t + .milliseconds(3))
        try recorder.feed(unit, .fenceDeadlinePassed, now: t + .milliseconds(900))
        try recorder.feed(unit, .leaseConfirmed, now: t + .milliseconds(950))
        try recorder.feed(unit, .observed(other), now: t + .milliseconds(2000))
        try recorder.feed(unit, .eligibilityChanged(eligible: true, rank: 1), now: t + .milliseconds(2500))
        try recorder.feed(unit, .observed(nil), now: t + .milliseconds(3000))
        try recorder.feed(unit, .claimTimerFired(epoch: 1), now: t + .milliseconds(3040))
        try recorder.feed(unit, .claimSucceeded(FencingToken(rawValue: 9)), now: t + .milliseconds(3042))
        try recorder.feed(unit, .eligibilityChanged(eligible: false, rank: 1), now: t + .milliseconds(4000))
        try recorder.feed(unit, .releaseCompleted, now: t + .milliseconds(4002))
        return recorder
    }

    @Test("states name the owner host and token; actions read as text")
    func texts() throws {
        let records = try Self.scenario().records
        #expect(records[0].to == "unowned")
        #expect(records[3].to == "owned(lb1 token 5)")
        #expect(records[3].action == "activate(5)")
        #expect(records[4].to == "fenced(lb1 token 5)")
        #expect(records[6].to == "unowned(lb2 token 7)")
        #expect(records[6].action == "deactivate")
        #expect(records[8].to.hasPrefix("waiting(until "))
        #expect(records[8].action.hasPrefix("claimTimer(epoch 1 at "))
        #expect(records[11].to == "releasing(lb1 token 9)")
        #expect(records[11].action == "deactivate + release(9)")
        let owned = OwnershipStateText("owned(lb1 token 5)")
        #expect(owned.name == "owned" && owned.owner == "lb1" && owned.token == 5)
        #expect(OwnershipStateText("waiting(until 5 epoch 1)").owner == nil)
    }

    @Test("a recorded unit replays through a fresh machine without divergence; a tampered record diverges")
    func replay() throws {
        let records = try Self.scenario().records
        let report = TraceReplay.replay(records)
        #expect(report.replayed == records.count)
        #expect(report.skipped == 0)
        #expect(report.divergences.isEmpty, "\(report.divergences)")

        var tampered = records
        tampered[3].to = "owned(lb1 token 6)"
        let bad = TraceReplay.replay(tampered)
        #expect(bad.divergences.map(\.sequence) == [4])
    }

    @Test("milestones: claimed, fenced, unfenced, lost, taken over, released — with owner host and token")
    func milestones() throws {
        let milestones = OwnershipMilestone.derive(try Self.scenario().records)
        #expect(milestones.map(\.kind) == [.claimed, .fenced, .unfenced, .lost, .takenOver, .released])
        #expect(milestones[0].description == "claimed: 198.18.4.0/26 owner lb1 token 5")
        #expect(milestones[3].owner == "lb2" && milestones[3].token == 5)
        #expect(milestones[4].description == "taken over: 198.18.4.0/26 owner lb1 token 9 (from lb2)")
        #expect(milestones[5].owner == nil && milestones[5].token == 9)
    }

    @Test("a unit moving between two other hosts is an owner change")
    func ownerChanged() throws {
        var recorder = OwnershipRecorder(host: "lb1")
        recorder.create(Self.unit, now: Fixture.t0)
        try recorder.feed(Self.unit, .observed(Self.other), now: Fixture.t0)
        try recorder.feed(Self.unit, .observed(nil), now: Fixture.t0 + .seconds(1))
        try recorder.feed(
            Self.unit, .observed(OwnershipHolder(host: "lb3", token: FencingToken(rawValue: 12), isOurs: false)),
            now: Fixture.t0 + .seconds(1) + .milliseconds(30))
        let milestones = OwnershipMilestone.derive(recorder.records)
        #expect(milestones.map(\.description) == ["owner changed: 198.18.4.0/26 owner lb3 token 12 (from lb2)"])
    }

    @Test("untrusted dump values never trap a replay: a huge rank, absurd settings, a time near the end of Int64")
    func untrusted() throws {
        var records = try Self.scenario().records
        records[2].event = .ownership(.eligibilityChanged(eligible: true, rank: .max))
        let report = TraceReplay.replay(records)
        #expect(report.divergences.first?.replayed.hasPrefix("invalid(eligibilityChanged)") == true)

        var absurd = OwnershipSettings()
        absurd.takeoverStep = .seconds(Int64.max / 2)
        records = try Self.scenario().records
        records[0].event = .ownershipCreated(OwnershipCreation(host: "lb1", settings: absurd))
        let skipped = TraceReplay.replay(records)
        #expect(skipped.skipped == records.count, "no machine without a replayable creation")

        records = try Self.scenario().records
        for index in records.indices { records[index].monotonic = Instant(nanoseconds: .max - 5) }
        #expect(TraceReplay.replay(records).replayed == 0)
    }

    @Test("a bug-class event recorded as unreachable replays the same")
    func unreachable() throws {
        var recorder = OwnershipRecorder(host: "lb1")
        recorder.create(Self.unit, now: Fixture.t0)
        var machine = recorder.machines[Self.unit]!
        machine.assertsOnUnreachable = false
        recorder.machines[Self.unit] = machine
        // releaseCompleted while waiting: our own bug. The coordinator records it as unreachable.
        try recorder.feed(Self.unit, .eligibilityChanged(eligible: true, rank: 2), now: Fixture.t0)
        var records = recorder.records
        var copy = recorder.machines[Self.unit]!
        let from = copy.description
        #expect(throws: UnreachableTransition.self) { _ = try copy.handle(.releaseCompleted, now: Fixture.t0) }
        records.append(
            MachineTraceRecord(
                sequence: 3, monotonic: Fixture.t0, wallNanoseconds: 0, subject: .unit(Self.unit), event: .ownership(.releaseCompleted),
                from: from, to: copy.description, action: "unreachable(releaseCompleted)"))
        #expect(TraceReplay.replay(records).divergences.isEmpty)
    }
}
