import Foundation
import ProxyARPCore
import ProxyARPStateMachines
import Testing

/// Runs machines the way the live system does and records every transition as a
/// `MachineTraceRecord`: sequence from 1, `from`/`to` the state descriptions around the
/// event, `action` the action's description; creation records carry action "none".
private struct TraceRecorder {
    var records: [MachineTraceRecord] = []
    var vips: [IPAddress: VIPActivationStateMachine] = [:]
    var adapters: [AdapterName: AdapterHealthStateMachine] = [:]
    var selection = AgentSelection()
    /// The selector's decision numbers, as the daemon gives them.
    var decisions: UInt64 = 0

    private mutating func append(_ now: Instant, _ subject: TraceSubject, _ event: MachineEvent, _ from: String, _ to: String, _ action: String) {
        records.append(
            MachineTraceRecord(
                sequence: UInt64(records.count + 1), monotonic: now, wallNanoseconds: 1_700_000_000_000_000_000 + now.nanoseconds,
                subject: subject, event: event, from: from, to: to, action: action))
    }

    mutating func createAdapter(_ name: AdapterName, _ settings: AdapterHealthSettings, now: Instant) {
        let machine = AdapterHealthStateMachine(adapter: name, settings: settings, now: now)
        adapters[name] = machine
        append(now, .adapter(name), .adapterCreated(settings), "", machine.state.description, "none")
    }

    @discardableResult
    mutating func adapter(_ name: AdapterName, _ event: AdapterHealthEvent, now: Instant) throws -> AdapterHealthStateMachine.Action {
        var machine = adapters[name]!
        let from = machine.state.description
        let action = try machine.handle(event)
        adapters[name] = machine
        append(now, .adapter(name), .adapter(event), from, machine.state.description, action.description)
        return action
    }

    mutating func createVIP(_ vip: IPAddress, _ settings: VIPActivationSettings, now: Instant) {
        let machine = VIPActivationStateMachine(vip: vip, settings: settings, now: now)
        vips[vip] = machine
        append(now, .vip(vip), .vipCreated(settings), "", machine.state.description, "none")
    }

    @discardableResult
    mutating func vip(_ vip: IPAddress, _ event: VIPActivationEvent, now: Instant) throws -> VIPActivationStateMachine.Action {
        var machine = vips[vip]!
        let from = machine.state.description
        let action = try machine.handle(event)
        vips[vip] = machine
        append(now, .vip(vip), .vip(event), from, machine.state.description, action.description)
        return action
    }

    @discardableResult
    mutating func select(_ event: SelectionEvent, now: Instant) -> String {
        let from = selection.summary
        let result = selection.apply(event)
        append(now, .selector, .selection(event), from, selection.summary, result)
        return result
    }

    /// Selects an agent for `vip` and feeds the choice to its machine.
    mutating func assign(_ vip: IPAddress, excluding: [AdapterName] = [], now: Instant) throws -> Agent? {
        _ = select(.select(vip: vip, preferred: [], preempt: false, excluding: excluding), now: now)
        guard let name = selection.assignments[vip], let candidate = selection.candidates[name] else {
            decisions += 1
            try self.vip(vip, .noAgentAvailable(decision: decisions, now: now), now: now)
            return nil
        }
        let agent = Agent(
            name: name, mac: candidate.mac, localAddress: candidate.localAddress(for: vip),
            confirmation: selection.confirmationPolicy(for: name))
        decisions += 1
        try self.vip(vip, .agentSelected(agent, decision: decisions, now: now), now: now)
        return agent
    }

    /// Confirms (heard on `sibling`) and binds the VIP's current attempt.
    mutating func confirmAndBind(_ vip: IPAddress, agent: Agent, heardOn sibling: AdapterName, now: Instant) throws {
        try self.vip(vip, .announcementSeen(on: sibling, mac: agent.mac, now: now), now: now)
        let epoch = vips[vip]!.currentEpoch
        try self.vip(vip, .outboundPathBound(agent: agent.name, epoch: epoch, now: now + .milliseconds(1)), now: now + .milliseconds(1))
    }
}

/// A realistic run: three adapters, four VIPs, activation, a carrier loss with failover,
/// a flap with hold-down, an unconfirmed agent, and a withdrawal.
private func recordScenario() throws -> [MachineTraceRecord] {
    var r = TraceRecorder()
    let t0 = Fixture.t0
    let health = Fixture.healthSettings
    let settings = Fixture.vipSettings
    let names: [AdapterName] = ["eth0", "eth1", "eth2"]

    for name in names { r.createAdapter(name, health, now: t0) }
    for name in names {
        try r.adapter(name, .linkChanged(adminUp: true, carrier: true, now: t0), now: t0)
        r.select(.candidateChanged(Fixture.candidate(name)), now: t0)
    }
    r.select(.learnSegment(listener: "eth0", speaker: "eth2"), now: t0)

    let vips: [IPAddress] = [.v4(IPv4Address(198, 18, 0, 100)), .v4(IPv4Address(198, 18, 0, 101)), .v4(IPv4Address(198, 18, 16, 5)), .v4(IPv4Address(198, 18, 5, 9))]
    for vip in vips { r.createVIP(vip, settings, now: t0) }

    // Activation of every VIP.
    var agents: [IPAddress: Agent] = [:]
    var now = t0 + .milliseconds(10)
    for vip in vips {
        let agent = try #require(try r.assign(vip, now: now))
        agents[vip] = agent
        let sibling: AdapterName = agent.name == "eth0" ? "eth1" : "eth0"
        try r.confirmAndBind(vip, agent: agent, heardOn: sibling, now: now + .milliseconds(3))
        now = now + .milliseconds(10)
    }
    // Rounds 2 and 3 for every VIP.
    for round in 1...2 {
        for vip in vips {
            let epoch = r.vips[vip]!.currentEpoch
            try r.vip(vip, .timerFired(VIPTimerID(kind: .announce, epoch: epoch), now: t0 + .milliseconds(1200 * Int64(round))), now: t0 + .milliseconds(1200 * Int64(round)))
        }
    }
    // Noise: a foreign claim and a stale transmit.
    try r.vip(vips[0], .announcementSeen(on: "eth1", mac: Fixture.foreignMAC, now: t0 + .seconds(3)), now: t0 + .seconds(3))
    try r.vip(vips[0], .announcementTransmitted(agent: "eth0", epoch: 0, now: t0 + .seconds(3)), now: t0 + .seconds(3))

    // eth0 loses carrier: its VIPs fail over.
    now = t0 + .seconds(10)
    let lost = try r.adapter("eth0", .linkChanged(adminUp: true, carrier: false, now: now), now: now)
    #expect(lost == .becameIneligible(.noCarrier))
    var eth0Candidate = Fixture.candidate("eth0")
    eth0Candidate.eligible = false
    r.select(.candidateChanged(eth0Candidate), now: now)
    for vip in vips where agents[vip]?.name == "eth0" {
        r.decisions += 1
        try r.vip(vip, .agentLost("eth0", decision: r.decisions, now: now), now: now)
        let agent = try #require(try r.assign(vip, now: now + .milliseconds(1)))
        // Nobody shares eth1's subnet now; under a transmit policy the transmit confirms.
        if agent.confirmation == .transmit {
            try r.vip(vip, .announcementTransmitted(agent: agent.name, epoch: r.vips[vip]!.currentEpoch, now: now + .milliseconds(2)), now: now + .milliseconds(2))
            try r.vip(vip, .outboundPathBound(agent: agent.name, epoch: r.vips[vip]!.currentEpoch, now: now + .milliseconds(3)), now: now + .milliseconds(3))
        } else {
            try r.confirmAndBind(vip, agent: agent, heardOn: "eth2", now: now + .milliseconds(2))
        }
        agents[vip] = agent
    }

    // eth0 comes back inside the flap window: hold-down, then eligible.
    now = t0 + .seconds(12)
    let back = try r.adapter("eth0", .linkChanged(adminUp: true, carrier: true, now: now), now: now)
    guard case .holdDown(let timer, _) = back else {
        Issue.record("expected a hold-down, got \(back)")
        return r.records
    }
    try r.adapter("eth0", .holdDownExpired(epoch: timer.epoch - 1, now: now), now: now)  // stale
    try r.adapter("eth0", .holdDownExpired(epoch: timer.epoch, now: timer.deadline), now: timer.deadline)
    r.select(.candidateChanged(Fixture.candidate("eth0")), now: timer.deadline)

    // eth2's announcements for its VIP go unheard: retransmit twice, reselect.
    let lonely = vips[3]
    now = t0 + .seconds(20)
    try r.vip(lonely, .withdraw(keepLocalAddress: false, now: now), now: now)
    r.select(.release(lonely), now: now)
    r.createVIP(.v4(IPv4Address(198, 18, 5, 10)), settings, now: now)
    let strayVIP = IPAddress.v4(IPv4Address(198, 18, 5, 10))
    _ = try #require(try r.assign(strayVIP, excluding: ["eth0", "eth1"], now: now))
    for k in 1...3 {
        let at = now + .milliseconds(250 * Int64(k))
        try r.vip(strayVIP, .timerFired(VIPTimerID(kind: .confirm, epoch: 1), now: at), now: at)
    }
    try r.adapter("eth2", .announcementsUnconfirmed(now: now + .seconds(1)), now: now + .seconds(1))
    var eth2Candidate = Fixture.candidate("eth2")
    eth2Candidate.eligible = false
    r.select(.candidateChanged(eth2Candidate), now: now + .seconds(1))
    let rescued = try #require(try r.assign(strayVIP, now: now + .seconds(1)))
    try r.confirmAndBind(strayVIP, agent: rescued, heardOn: rescued.name == "eth0" ? "eth1" : "eth0", now: now + .seconds(1))
    r.select(.candidateRemoved("eth2"), now: now + .seconds(2))
    try r.adapter("eth2", .linkRemoved(now: now + .seconds(2)), now: now + .seconds(2))
    return r.records
}

private func jsonLines(_ records: [MachineTraceRecord]) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return try records.map { String(decoding: try encoder.encode($0), as: UTF8.self) }.joined(separator: "\n") + "\n"
}

private func parse(_ text: String) throws -> [MachineTraceRecord] {
    let decoder = JSONDecoder()
    return try text.split(separator: "\n").map { try decoder.decode(MachineTraceRecord.self, from: Data($0.utf8)) }
}

@Suite("Trace replay")
struct TraceReplayTests {
    @Test("a recorded run survives JSON Lines and replays with no divergence")
    func roundTrip() throws {
        let records = try recordScenario()
        #expect(records.count > 60)
        #expect(records.map(\.sequence) == Array(1...UInt64(records.count)))
        // The scenario really went where it claims.
        #expect(records.contains { $0.action.hasPrefix("publish(eth1") && $0.action.contains("replacing eth0") })
        #expect(records.contains { $0.action.contains("requestAgent(excluding eth2") })
        #expect(records.contains { $0.to.hasPrefix("holdDown(") })
        #expect(records.contains { $0.to.hasPrefix("active(") && $0.to.contains("epoch 2") })

        let text = try jsonLines(records)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == records.count, "one JSON object per line")
        #expect(lines.allSatisfy { $0.first == "{" && $0.last == "}" })
        let decoded = try parse(text)
        #expect(decoded == records)

        let report = TraceReplay.replay(decoded)
        #expect(report.divergences == [], "\(report.divergences)")
        #expect(report.replayed == records.count)
        #expect(report.skipped == 0)
        // Order of the input does not matter.
        #expect(TraceReplay.replay(decoded.reversed()) == report)
    }

    @Test("a changed action string diverges at its sequence")
    func tamperedAction() throws {
        var records = try parse(try jsonLines(try recordScenario()))
        let index = try #require(records.firstIndex { $0.action.hasPrefix("publish(") })
        let sequence = records[index].sequence
        records[index].action = records[index].action.replacingOccurrences(of: "publish(", with: "publish (")
        let report = TraceReplay.replay(records)
        #expect(report.divergences.map(\.sequence) == [sequence])
        #expect(report.divergences.first?.recorded.hasPrefix("publish (") == true)
        #expect(report.replayed == records.count)
    }

    @Test("a removed event diverges at the next record of the same machine")
    func removedEvent() throws {
        var records = try parse(try jsonLines(try recordScenario()))
        // Drop the first round-2 announce timer: the fresh machine then sends round 2 where
        // the trace says round 3.
        let index = try #require(records.firstIndex {
            if case .vip(.timerFired(let id, _)) = $0.event { return id.kind == .announce }
            return false
        })
        let subject = records[index].subject
        let removed = records.remove(at: index)
        let next = try #require(records.first { $0.subject == subject && $0.sequence > removed.sequence })
        let report = TraceReplay.replay(records)
        #expect(report.divergences.first?.sequence == next.sequence)
        #expect(report.divergences.allSatisfy { $0.subject == subject })
        #expect(report.replayed == records.count)
    }

    @Test("a removed confirmation makes the replay hit a bug-class event: reported, not a crash")
    func removedConfirmation() throws {
        var records = try parse(try jsonLines(try recordScenario()))
        let index = try #require(records.firstIndex {
            if case .vip(.announcementSeen) = $0.event { return $0.action.hasPrefix("publish(") }
            return false
        })
        let removed = records.remove(at: index)
        let next = try #require(records.first { $0.subject == removed.subject && $0.sequence > removed.sequence })
        let report = TraceReplay.replay(records)  // would trap in assertionFailure before the fix
        #expect(report.divergences.first?.sequence == next.sequence)
        #expect(report.divergences.first?.replayed.hasPrefix("unreachable(outboundPathBound") == true, "\(report.divergences)")
        #expect(report.replayed == records.count)
    }

    @Test("a machine whose creation record is missing is skipped, not divergent")
    func missingCreation() throws {
        var records = try parse(try jsonLines(try recordScenario()))
        let vip = IPAddress.v4(IPv4Address(198, 18, 0, 101))
        let creation = try #require(records.firstIndex { $0.subject == .vip(vip) && $0.event == .vipCreated(Fixture.vipSettings) })
        records.remove(at: creation)
        let orphans = records.filter { $0.subject == .vip(vip) }.count
        #expect(orphans > 3)
        let report = TraceReplay.replay(records)
        #expect(report.divergences == [])
        #expect(report.skipped == orphans)
        #expect(report.replayed == records.count - orphans)
    }

    @Test("a trace that does not start at 1 skips the selection but replays the machines")
    func truncatedRing() throws {
        let records = try recordScenario()
        let tail = Array(records.dropFirst(1))  // the ring dropped record #1
        let report = TraceReplay.replay(tail)
        let selectorRecords = tail.filter { $0.subject == .selector }.count
        let eth0Records = tail.filter { $0.subject == .adapter("eth0") }.count  // its creation was #1
        #expect(report.divergences == [])
        #expect(report.skipped == selectorRecords + eth0Records)
        #expect(report.replayed == tail.count - report.skipped)
    }
}
