import Foundation
import ProxyARPCore
import ProxyARPStateMachines
import Testing

// The fixture's adapters (see AgentSelectionTests): eth0 and eth1 on subnet A
// (198.18.0.0/22), eth2 alone on subnet B (198.18.4.0/22).

/// A candidate held down by flap damping alone, link up, eligible again at `t0 + seconds`.
private func lastResort(_ name: AdapterName, endsAfter seconds: Int64) -> AgentCandidate {
    var candidate = Fixture.candidate(name, eligible: false)
    candidate.linkUp = true
    candidate.lastResortUntil = Fixture.t0 + .seconds(seconds)
    return candidate
}

/// A candidate held down for a cause that makes it unfit (transmit errors, unconfirmed
/// announcements, a re-creation): link up, but no last resort.
private func unfit(_ name: AdapterName) -> AgentCandidate {
    var candidate = Fixture.candidate(name, eligible: false)
    candidate.linkUp = true
    return candidate
}

private func chosen(_ choice: AgentSelection.Choice) -> String {
    if case .agent(let candidate, _) = choice { return candidate.name.rawValue }
    return "-"
}

@Suite("Agent selection: last resort when flap damping holds every adapter down")
struct AgentSelectionLastResortTests {
    @Test("which candidate serves", arguments: [
        // (VIP, preferred, candidates as name:state, expected); state: e = eligible,
        // rN = last resort eligible again in N s, u = held down and unfit, d = down
        ("198.18.16.9", [], ["eth0:r3", "eth1:r1", "eth2:r2"], "eth1"),  // the hold-down that ends first
        ("198.18.0.50", [], ["eth0:r3", "eth1:r5", "eth2:r1"], "eth0"),  // subnet first, then earliest end
        ("198.18.16.9", ["eth2"], ["eth0:r1", "eth1:r1", "eth2:r9"], "eth2"),  // preference before the end
        ("198.18.16.9", [], ["eth0:r1", "eth1:r1", "eth2:d"], "eth0"),  // equal ends: name
        ("198.18.0.50", [], ["eth0:r1", "eth1:r1", "eth2:e"], "eth2"),  // any eligible candidate beats every last resort
        ("198.18.16.9", [], ["eth0:u", "eth1:r7", "eth2:u"], "eth1"),  // the unfit never serve
        ("198.18.16.9", [], ["eth0:u", "eth1:d", "eth2:u"], "-"),  // no eligible, no last resort: no agent
    ] as [(String, [String], [String], String)])
    func choice(vip: String, preferred: [String], states: [String], expected: String) {
        var selection = AgentSelection()
        for entry in states {
            let parts = entry.split(separator: ":")
            let name = AdapterName(String(parts[0]))
            let state = parts[1]
            let candidate: AgentCandidate =
                switch state.first {
                case "e": Fixture.candidate(name)
                case "r": lastResort(name, endsAfter: Int64(state.dropFirst())!)
                case "u": unfit(name)
                default: Fixture.candidate(name, eligible: false)
                }
            selection.candidateChanged(candidate)
        }
        let config = VIPConfiguration(address: IPv4Address(vip)!, preferred: preferred.map { AdapterName($0) })
        let best = selection.bestCandidate(for: config)?.name.rawValue ?? "-"
        let choice = selection.select(config)
        #expect(chosen(choice) == expected, "\(choice)")
        #expect(best == expected, "the probe asks the same adapter")
        if case .agent(let candidate, let rank) = choice {
            #expect((rank.lastResortUntil != nil) == !candidate.eligible)
            #expect(choice.description.contains("lastResort") == !candidate.eligible)
            #expect(selection.agent(of: config.address) == candidate.name)
        } else {
            #expect(selection.assignments.isEmpty)
        }
    }

    @Test("an excluded last resort is skipped; the next one serves")
    func excluded() {
        var selection = AgentSelection()
        selection.candidateChanged(lastResort("eth0", endsAfter: 1))
        selection.candidateChanged(lastResort("eth1", endsAfter: 2))
        let config = VIPConfiguration(address: IPv4Address("198.18.16.9")!)
        #expect(chosen(selection.select(config, excluding: ["eth0"])) == "eth1")
        #expect(chosen(selection.select(config, excluding: ["eth0", "eth1"])) == "-")
    }

    @Test("an eligible candidate is never a last resort, and a last resort never a preemption target")
    func eligibleIsNoLastResort() {
        let eligible = AgentCandidate(
            name: "eth0", mac: Fixture.macA, interfaces: [], eligible: true, lastResortUntil: Fixture.t0)
        #expect(eligible.lastResortUntil == nil)
        #expect(eligible.canServe)
        #expect(lastResort("eth1", endsAfter: 1).canServe)
        #expect(!unfit("eth1").canServe)

        var selection = AgentSelection()
        selection.candidateChanged(Fixture.candidate("eth2"))
        selection.candidateChanged(lastResort("eth0", endsAfter: 1))
        let preempting = VIPConfiguration(address: IPv4Address("198.18.0.50")!, preempt: true)
        #expect(chosen(selection.select(preempting)) == "eth2")
        // eth0 has the VIP's subnet, but it is not eligible: no move onto it.
        #expect(selection.preemptionTarget(for: preempting) == nil)
    }

    @Test("the last resort's choice replays from the trace: the candidate, end of hold-down included, is recorded")
    func replaysFromRecordedCandidate() throws {
        var live = AgentSelection()
        var replayed = AgentSelection()
        let config = VIPConfiguration(address: IPv4Address("198.18.16.9")!)
        for candidate in [lastResort("eth0", endsAfter: 5), lastResort("eth1", endsAfter: 2)] {
            // What the trace stores: the candidate encoded, then decoded by `trace replay`.
            let decoded = try JSONDecoder().decode(AgentCandidate.self, from: JSONEncoder().encode(candidate))
            #expect(decoded == candidate)
            live.candidateChanged(candidate)
            _ = replayed.apply(.candidateChanged(decoded))
        }
        let select = SelectionEvent.select(vip: config.address, preferred: [], preempt: false, excluding: [])
        #expect(live.select(config).description == replayed.apply(select))
        #expect(live.agent(of: config.address) == "eth1")
    }
}
