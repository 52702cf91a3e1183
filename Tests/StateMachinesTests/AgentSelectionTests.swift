import ProxyARPCore
import ProxyARPStateMachines
import ProxyARPTestSupport
import Testing

// eth0 198.18.0.10/22 and eth1 198.18.0.11/22 share subnet A; eth2 198.18.4.10/22 is
// alone on subnet B. 1,000 VIPs: 400 in A, 200 in B, 400 in 198.18.16.0/22 (no adapter's
// subnet). Each /22 holds 1,022 host addresses, so the counts fit.

extension Fixture {
    static func candidate(_ name: AdapterName, eligible: Bool = true) -> AgentCandidate {
        switch name {
        case "eth0": AgentCandidate(name: name, mac: macA, interfaces: [IPv4Interface("198.18.0.10/22")!], eligible: eligible)
        case "eth1": AgentCandidate(name: name, mac: macB, interfaces: [IPv4Interface("198.18.0.11/22")!], eligible: eligible)
        default: AgentCandidate(name: name, mac: macC, interfaces: [IPv4Interface("198.18.4.10/22")!], eligible: eligible)
        }
    }

    static let subnetA = IPv4Subnet("198.18.0.0/22")!
    static let subnetB = IPv4Subnet("198.18.4.0/22")!

    /// `count` VIPs from `first` on.
    static func vips(from first: String, count: Int) -> [IPv4Address] {
        let base = IPv4Address(first)!
        return (0..<count).map { base.advanced(by: UInt32($0))! }
    }

    static let vipsA = vips(from: "198.18.1.0", count: 400)
    static let vipsB = vips(from: "198.18.5.0", count: 200)
    static let vipsElsewhere = vips(from: "198.18.16.1", count: 400)
}

private func threeAdapters(eligible: Set<AdapterName> = ["eth0", "eth1", "eth2"]) -> AgentSelection {
    var selection = AgentSelection()
    for name: AdapterName in ["eth0", "eth1", "eth2"] {
        selection.candidateChanged(Fixture.candidate(name, eligible: eligible.contains(name)))
    }
    return selection
}

private func agentName(_ choice: AgentSelection.Choice) -> AdapterName? {
    if case .agent(let candidate, _) = choice { return candidate.name }
    return nil
}

/// A deterministic shuffle (64-bit LCG), so the order is the same on every run.
private func shuffled<T>(_ items: [T], seed: UInt64) -> [T] {
    var items = items
    var state = seed
    for i in stride(from: items.count - 1, to: 0, by: -1) {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        items.swapAt(i, Int((state >> 33) % UInt64(i + 1)))
    }
    return items
}

@Suite("Agent selection")
struct AgentSelectionTests {
    @Test("fixture sanity: the three VIP groups are where the claims need them")
    func fixture() {
        #expect(Fixture.vipsA.allSatisfy(Fixture.subnetA.contains))
        #expect(Fixture.vipsB.allSatisfy(Fixture.subnetB.contains))
        #expect(Fixture.vipsElsewhere.allSatisfy { !Fixture.subnetA.contains($0) && !Fixture.subnetB.contains($0) })
        #expect(Set(Fixture.vipsA + Fixture.vipsB + Fixture.vipsElsewhere).count == 1000)
    }

    @Test("1,000 VIPs, grouped order: same-subnet VIPs stay on their subnet, everything balances within one")
    func balancedGrouped() {
        var selection = threeAdapters()
        for vip in Fixture.vipsA + Fixture.vipsB + Fixture.vipsElsewhere {
            #expect(agentName(selection.select(VIPConfiguration(address: vip))) != nil)
        }
        #expect(selection.assignments.count == 1000)
        let onA = Dictionary(grouping: Fixture.vipsA) { selection.assignments[$0]! }.mapValues(\.count)
        #expect(onA == ["eth0": 200, "eth1": 200])
        #expect(Fixture.vipsB.allSatisfy { selection.assignments[$0] == "eth2" })
        let loads = ["eth0", "eth1", "eth2"].map { selection.load(of: AdapterName($0)) }
        #expect(loads.reduce(0, +) == 1000)
        #expect(loads.max()! - loads.min()! <= 1, "\(loads)")
        #expect(selection.summary == "eth0=\(loads[0]) eth1=\(loads[1]) eth2=\(loads[2])")
    }

    @Test("1,000 VIPs in shuffled orders: subnet rule always holds, equals stay within one", arguments: [1, 7, 42] as [UInt64])
    func balancedShuffled(seed: UInt64) {
        var selection = threeAdapters()
        for vip in shuffled(Fixture.vipsA + Fixture.vipsB + Fixture.vipsElsewhere, seed: seed) {
            _ = selection.select(VIPConfiguration(address: vip))
        }
        #expect(Fixture.vipsA.allSatisfy { ["eth0", "eth1"].contains(selection.assignments[$0]) })
        #expect(Fixture.vipsB.allSatisfy { selection.assignments[$0] == "eth2" })
        // eth0 and eth1 are equals for every VIP: each choice takes the lighter of the two.
        #expect(abs(selection.load(of: "eth0") - selection.load(of: "eth1")) <= 1)
        #expect(selection.members.values.map(\.count).reduce(0, +) == 1000)
    }

    @Test("ranking", arguments: [
        // (VIP, preferred, eligible, excluding, expected)
        ("198.18.0.50", ["eth2"], ["eth0", "eth1", "eth2"], [], "eth0"),  // same subnet beats preferred
        ("198.18.0.50", ["eth2", "eth1"], ["eth0", "eth1", "eth2"], [], "eth1"),  // preferred among the same-subnet equals
        ("198.18.0.50", ["eth1", "eth0"], ["eth0", "eth2"], [], "eth0"),  // ineligible preferred skipped
        ("198.18.0.50", [], ["eth2"], [], "eth2"),  // no same-subnet adapter left
        ("198.18.0.50", [], ["eth0", "eth1", "eth2"], ["eth0"], "eth1"),  // excluded never chosen
        ("198.18.16.9", ["eth2", "eth1"], ["eth0", "eth1", "eth2"], [], "eth2"),  // preferred in order
        ("198.18.16.9", ["eth2", "eth1"], ["eth0", "eth1", "eth2"], ["eth2"], "eth1"),  // next preferred
        ("198.18.16.9", ["eth2", "eth1"], ["eth0", "eth1"], [], "eth1"),
        ("198.18.16.9", [], ["eth0", "eth1", "eth2"], [], "eth2"),  // load (eth2 lightest in the base)
        ("198.18.16.9", [], ["eth0", "eth1", "eth2"], ["eth2"], "eth0"),  // then name
        ("198.18.16.9", [], [], [], "-"),  // nobody eligible
        ("198.18.16.9", [], ["eth0"], ["eth0"], "-"),  // the only one excluded
    ] as [(String, [String], [String], [String], String)])
    func ranking(vip: String, preferred: [String], eligible: [String], excluding: [String], expected: String) {
        var selection = threeAdapters(eligible: Set(eligible.map { AdapterName($0) }))
        // Base load: eth0 and eth1 carry 3 VIPs each, eth2 one, so preference must beat load.
        for (i, name) in ["eth0", "eth0", "eth0", "eth1", "eth1", "eth1", "eth2"].enumerated() {
            selection.candidateChanged(Fixture.candidate(AdapterName(name)))
            _ = selection.select(
                VIPConfiguration(address: IPv4Address(198, 18, 20, UInt8(i + 1))),
                excluding: Set(["eth0", "eth1", "eth2"].filter { $0 != name }.map { AdapterName($0) }))
        }
        for name in ["eth0", "eth1", "eth2"] {
            selection.candidateChanged(Fixture.candidate(AdapterName(name), eligible: eligible.contains(name)))
        }
        #expect(selection.load(of: "eth0") == 3 && selection.load(of: "eth2") == 1)

        let address = IPv4Address(vip)!
        let choice = selection.select(
            VIPConfiguration(address: address, preferred: preferred.map { AdapterName($0) }),
            excluding: Set(excluding.map { AdapterName($0) }))
        #expect((agentName(choice)?.rawValue ?? "-") == expected, "\(choice)")
        if expected == "-" {
            #expect(choice == .noAgent)
            #expect(selection.assignments[address] == nil)
        } else {
            #expect(selection.assignments[address] == AdapterName(expected))
            #expect(selection.members[AdapterName(expected)]?.contains(address) == true)
        }
    }

    @Test("losing an agent: reselecting only its VIPs moves only them", arguments: ["ineligible", "removed"])
    func reselectOnlyLostVIPs(how: String) {
        var selection = threeAdapters()
        let all = Fixture.vipsA + Fixture.vipsB + Fixture.vipsElsewhere
        for vip in all { _ = selection.select(VIPConfiguration(address: vip)) }
        let before = selection.assignments
        let lost = Set(before.filter { $0.value == "eth1" }.keys)
        #expect(lost.count > 300)

        if how == "removed" {
            selection.candidateRemoved("eth1")
            #expect(lost.allSatisfy { selection.assignments[$0] == nil })
        } else {
            selection.candidateChanged(Fixture.candidate("eth1", eligible: false))
        }
        for vip in lost.sorted() {
            #expect(agentName(selection.select(VIPConfiguration(address: vip))) != nil)
        }
        for vip in all {
            if lost.contains(vip) {
                #expect(selection.assignments[vip] != "eth1")
                if Fixture.subnetA.contains(vip) { #expect(selection.assignments[vip] == "eth0") }
            } else {
                #expect(selection.assignments[vip] == before[vip], "\(vip) moved")
            }
        }
        #expect(selection.load(of: "eth1") == 0)
        #expect(selection.assignments.count == 1000)
    }

    @Test("release drops one assignment and its load; unknown VIPs are a no-op")
    func release() {
        var selection = threeAdapters()
        let vip = IPv4Address(198, 18, 0, 50)
        _ = selection.select(VIPConfiguration(address: vip))
        #expect(selection.load(of: "eth0") == 1)
        selection.release(IPv4Address(198, 18, 0, 51))
        #expect(selection.load(of: "eth0") == 1)
        selection.release(vip)
        #expect(selection.load(of: "eth0") == 0)
        #expect(selection.assignments.isEmpty)
        // Reselecting an assigned VIP does not count it twice.
        _ = selection.select(VIPConfiguration(address: vip))
        _ = selection.select(VIPConfiguration(address: vip))
        #expect(selection.load(of: "eth0") + selection.load(of: "eth1") == 1)
    }

    @Test("preemption target: only for preempt VIPs, on subnet or preference, never on load")
    func preemption() {
        var selection = threeAdapters(eligible: ["eth2"])
        let inA = IPv4Address(198, 18, 0, 77)
        let elsewhere = IPv4Address(198, 18, 16, 77)
        let preemptA = VIPConfiguration(address: inA, preempt: true)
        let stickyA = VIPConfiguration(address: inA, preempt: false)
        #expect(agentName(selection.select(preemptA)) == "eth2")
        #expect(selection.preemptionTarget(for: preemptA) == nil, "nobody better is eligible")

        selection.candidateChanged(Fixture.candidate("eth0"))
        #expect(selection.preemptionTarget(for: preemptA)?.name == "eth0", "same subnet outranks")
        #expect(selection.preemptionTarget(for: stickyA) == nil, "without preempt the VIP stays")

        // Load never justifies a move: eth2 serving 50 VIPs vs an idle eth1.
        selection.candidateChanged(Fixture.candidate("eth1"))
        let loadVIP = VIPConfiguration(address: elsewhere, preempt: true)
        _ = selection.select(loadVIP, excluding: ["eth0", "eth1"])
        for vip in Fixture.vips(from: "198.18.17.1", count: 50) {
            _ = selection.select(VIPConfiguration(address: vip), excluding: ["eth0", "eth1"])
        }
        #expect(selection.load(of: "eth2") > 50 && selection.load(of: "eth1") == 0)
        #expect(selection.preemptionTarget(for: loadVIP) == nil)

        // Preference does.
        let preferring = VIPConfiguration(address: elsewhere, preferred: ["eth1"], preempt: true)
        #expect(selection.preemptionTarget(for: preferring)?.name == "eth1")
        selection.candidateChanged(Fixture.candidate("eth1", eligible: false))
        #expect(selection.preemptionTarget(for: preferring) == nil, "an ineligible candidate is no target")

        // An unassigned VIP has no target.
        #expect(selection.preemptionTarget(for: VIPConfiguration(address: IPv4Address(198, 18, 16, 200), preempt: true)) == nil)
    }

    @Test("confirmation policy", arguments: [
        // (agent, eligible, learned (listener, speaker), expected)
        ("eth0", ["eth0", "eth1", "eth2"], [], ConfirmationPolicy.sibling),  // same-subnet sibling
        ("eth0", ["eth0", "eth2"], [], .transmit),  // the sibling is ineligible
        ("eth2", ["eth0", "eth1", "eth2"], [], .transmit),  // lone on its subnet
        ("eth2", ["eth0", "eth1", "eth2"], [("eth0", "eth2")], .sibling),  // learned segment peer
        ("eth2", ["eth1", "eth2"], [("eth0", "eth2")], .transmit),  // the learned peer is ineligible
        ("eth2", ["eth0", "eth1", "eth2"], [("eth2", "eth2")], .transmit),  // hearing itself teaches nothing
        ("eth9", ["eth0", "eth1", "eth2"], [], .transmit),  // unknown adapter
    ] as [(String, [String], [(String, String)], ConfirmationPolicy)])
    func confirmationPolicy(agent: String, eligible: [String], learned: [(String, String)], expected: ConfirmationPolicy) {
        var selection = threeAdapters(eligible: Set(eligible.map { AdapterName($0) }))
        for (listener, speaker) in learned { selection.learnSegment(AdapterName(listener), heard: AdapterName(speaker)) }
        #expect(selection.confirmationPolicy(for: AdapterName(agent)) == expected)
    }

    @Test("noAgent when none is eligible, and the VIP is left unassigned")
    func noAgent() {
        var selection = threeAdapters(eligible: [])
        let vip = VIPConfiguration(address: IPv4Address(198, 18, 0, 1), preferred: ["eth0"])
        #expect(selection.select(vip) == .noAgent)
        #expect(selection.select(vip).description == "noAgent")
        #expect(selection.assignments.isEmpty)
        #expect(selection.summary == "")
        var empty = AgentSelection()
        #expect(empty.select(vip) == .noAgent)
    }

    @Test("rank order and preemption criteria")
    func rankOrder() {
        let a = AgentRank(subnet: 0, preference: .max, load: 9, name: "eth9")
        let b = AgentRank(subnet: 1, preference: 0, load: 0, name: "eth0")
        #expect(a < b)
        #expect(a.outranksForPreemption(b))
        let lighter = AgentRank(subnet: 1, preference: 0, load: 0, name: "eth1")
        let heavier = AgentRank(subnet: 1, preference: 0, load: 5, name: "eth0")
        #expect(lighter < heavier)
        #expect(!lighter.outranksForPreemption(heavier))
        #expect(a.description == "subnet=0 pref=- load=9 eth9")
    }
}

@Suite("AgentSelection: the previous agent found at start")
struct AgentSelectionPreviousAgentTests {
    @Test("The previous agent outranks load, block and name, but not subnet or preference")
    func previousAgentHint() {
        var selection = AgentSelection()
        for name: AdapterName in ["eth0", "eth1", "eth2"] { selection.candidateChanged(Fixture.candidate(name)) }
        let vip = VIPConfiguration(address: IPv4Address("198.18.1.7")!)
        // eth0 serves more VIPs than eth1; the previous agent eth0 still wins.
        _ = selection.select(VIPConfiguration(address: IPv4Address("198.18.1.1")!))
        guard case .agent(let kept, let rank) = selection.select(vip, previous: "eth0") else {
            Issue.record("no agent")
            return
        }
        #expect(kept.name == "eth0" && rank.previous == 0 && rank.description.contains("previous"))
        // Without the hint, load decides: eth1.
        guard case .agent(let fresh, _) = selection.select(vip) else { return }
        #expect(fresh.name == "eth1")
        // eth2 is not on the VIP's subnet: subnet beats the hint.
        guard case .agent(let bySubnet, _) = selection.select(vip, previous: "eth2") else { return }
        #expect(bySubnet.name != "eth2")
        // A preference for eth1 beats the hint for eth0.
        let preferring = VIPConfiguration(address: vip.address, preferred: ["eth1"])
        guard case .agent(let byPreference, _) = selection.select(preferring, previous: "eth0") else { return }
        #expect(byPreference.name == "eth1")
        // A previous agent that is not eligible is no hint at all.
        selection.candidateChanged(Fixture.candidate("eth0", eligible: false))
        guard case .agent(let ineligible, _) = selection.select(vip, previous: "eth0") else { return }
        #expect(ineligible.name == "eth1")
    }
}
