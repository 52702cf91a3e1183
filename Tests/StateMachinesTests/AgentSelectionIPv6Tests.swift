import ProxyARPCore
import ProxyARPStateMachines
import Testing

// eth0 and eth1 share 2001:db8::/64 (and 198.18.0.0/24); eth2 is alone on 2001:db8:1::/64
// (and 198.18.1.0/24): the IPv6 VIPs follow the adapters' IPv6 prefixes as IPv4 VIPs
// follow their subnets.

@Suite("Agent selection: IPv6 VIPs")
struct AgentSelectionIPv6Tests {
    static func candidates() -> [AgentCandidate] {
        [
            AgentCandidate(name: "eth0", mac: Fixture.macA, interfaces: [IPv4Interface("198.18.0.10/24")!],
                           ipv6Prefixes: [IPv6Prefix("2001:db8::10/64")!], eligible: true),
            AgentCandidate(name: "eth1", mac: Fixture.macB, interfaces: [IPv4Interface("198.18.0.11/24")!],
                           ipv6Prefixes: [IPv6Prefix("2001:db8::11/64")!], eligible: true),
            AgentCandidate(name: "eth2", mac: Fixture.macC, interfaces: [IPv4Interface("198.18.1.10/24")!],
                           ipv6Prefixes: [IPv6Prefix("2001:db8:1::10/64")!], eligible: true),
        ]
    }

    @Test("An IPv6 VIP goes to an adapter whose IPv6 prefix holds it, balanced between the two; blocks never group IPv6 VIPs")
    func samePrefix() {
        var selection = AgentSelection(blockPrefixLength: 24)
        for candidate in Self.candidates() { selection.candidateChanged(candidate) }
        var near: [AdapterName: Int] = [:]
        for low in 1...20 {
            let vip = VIPConfiguration(address: IPv6Address(high: 0x2001_0db8_0000_0000, low: UInt64(0x100 + low)))
            guard case .agent(let candidate, let rank) = selection.select(vip) else { Issue.record("no agent"); return }
            #expect(rank.subnet == 0 && rank.block == 1, "\(rank)")
            near[candidate.name, default: 0] += 1
        }
        #expect(near.keys.sorted() == ["eth0", "eth1"] && near["eth0"] == 10, "\(near)")
        let far = VIPConfiguration(address: IPv6Address("2001:db8:1::100")!)
        guard case .agent(let candidate, _) = selection.select(far) else { Issue.record("no agent"); return }
        #expect(candidate.name == "eth2")
        // An IPv6 VIP in no adapter's prefix still gets an agent (the least loaded: eth2).
        let elsewhere = VIPConfiguration(address: IPv6Address("2001:db8:99::1")!)
        guard case .agent(let other, let rank) = selection.select(elsewhere) else { Issue.record("no agent"); return }
        #expect(rank.subnet == 1 && other.name == "eth2", "\(rank)")
        selection.release(elsewhere.address)
        #expect(selection.agent(of: elsewhere.address) == nil)
        #expect(selection.agent(of: far.address) == "eth2")
    }

    @Test("Sharing an IPv6 prefix makes adapters siblings for confirmation")
    func siblingsByPrefix() {
        var selection = AgentSelection()
        for var candidate in Self.candidates() {
            candidate.interfaces = []  // no IPv4 at all: the IPv6 prefixes alone decide
            selection.candidateChanged(candidate)
        }
        #expect(selection.confirmationPolicy(for: "eth0") == .sibling)
        #expect(selection.confirmationPolicy(for: "eth2") == .transmit)
    }

    @Test("IPv4 and IPv6 VIPs share the adapters' load")
    func sharedLoad() {
        var selection = AgentSelection()
        for candidate in Self.candidates() { selection.candidateChanged(candidate) }
        _ = selection.select(VIPConfiguration(address: IPv6Address("2001:db8:1::1")!))
        _ = selection.select(VIPConfiguration(address: IPv4Address("198.18.1.5")!))
        #expect(selection.load(of: "eth2") == 2)
        #expect(selection.members["eth2"] == [IPAddress("2001:db8:1::1")!, IPAddress("198.18.1.5")!])
    }
}
