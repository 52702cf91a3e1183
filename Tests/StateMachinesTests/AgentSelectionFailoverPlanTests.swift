import ProxyARPCore
import ProxyARPStateMachines
import ProxyARPTestSupport
import Testing

/// The standby plan (``AgentSelection/failoverPlan(for:limit:configuration:)``) must be
/// exactly what the failover pass then decides, or the link thread announces agents the
/// control plane moves away from again.
@Suite("Agent selection: the failover plan")
struct AgentSelectionFailoverPlanTests {

    private static let names: [AdapterName] = ["eth0", "eth1", "eth2", "eth3"]

    /// eth0 and eth1 share 198.18.0.0/22 and 2001:db8:0:1::/64; eth2 is on 198.18.4.0/22;
    /// eth3 on 198.18.0.0/22 too, without IPv6.
    private static func candidate(_ name: AdapterName, eligible: Bool = true) -> AgentCandidate {
        let index = names.firstIndex(of: name)!
        let v4 = ["198.18.0.10/22", "198.18.0.11/22", "198.18.4.10/22", "198.18.0.12/22"][index]
        let v6 = index < 2 ? [IPv6Prefix("2001:db8:0:1::\(index + 1)/64")!] : []
        return AgentCandidate(
            name: name, mac: MACAddress(2, 0, 0, 0, 0, UInt8(index + 1)), interfaces: [IPv4Interface(v4)!],
            ipv6Prefixes: v6, eligible: eligible)
    }

    /// A random mix: VIPs on each subnet and elsewhere, IPv6 ones, some with preferences.
    private static func scenario(
        _ generator: inout SplitMix64
    ) -> (selection: AgentSelection, configs: [IPAddress: VIPConfiguration]) {
        var selection = AgentSelection(blockPrefixLength: [32, 30, 28][Int.random(in: 0..<3, using: &generator)])
        for name in names { selection.candidateChanged(candidate(name)) }
        let bases: [IPAddress] = [
            .v4(IPv4Address("198.18.1.0")!), .v4(IPv4Address("198.18.5.0")!), .v4(IPv4Address("198.18.16.0")!),
            .v6(IPv6Address("2001:db8:0:1::100")!), .v6(IPv6Address("2001:db8:0:9::100")!),
        ]
        var configs: [IPAddress: VIPConfiguration] = [:]
        for _ in 0..<Int.random(in: 20...300, using: &generator) {
            let offset = UInt32.random(in: 0..<200, using: &generator)
            let vip: IPAddress
            switch bases[Int.random(in: 0..<bases.count, using: &generator)] {
            case .v4(let base): vip = .v4(base.advanced(by: offset)!)
            case .v6(let base): vip = .v6(base.advanced(by: UInt64(offset))!)
            }
            guard configs[vip] == nil else { continue }
            let preferred = Int.random(in: 0..<4, using: &generator) == 0 ? [names.randomElement(using: &generator)!] : []
            let config = VIPConfiguration(address: vip, preferred: preferred)
            configs[vip] = config
            _ = selection.select(config)
        }
        return (selection, configs)
    }

    @Test("over 200 random selections, the plan for each agent is what its failover pass chooses")
    func planMatchesThePass() throws {
        for seed in UInt64(1)...200 {
            var generator = SplitMix64(seed: seed)
            let (selection, configs) = Self.scenario(&generator)
            for failed in Self.names where !(selection.members[failed] ?? []).isEmpty {
                let limit = Int.random(in: 1...(selection.load(of: failed) + 3), using: &generator)
                let plan = selection.failoverPlan(for: failed, limit: limit) { configs[$0]! }
                // The pass, as the selector runs it: the agent is recorded unable to serve, then
                // its VIPs are selected one by one in the order of its member set.
                var pass = selection
                pass.candidateChanged(Self.candidate(failed, eligible: false))
                var chosen: [(IPAddress, AdapterName)] = []
                for vip in (selection.members[failed] ?? []).prefix(limit) {
                    guard case .agent(let candidate, _) = pass.select(configs[vip]!) else { continue }
                    chosen.append((vip, candidate.name))
                }
                #expect(plan.map(\.vip) == chosen.map(\.0), "seed \(seed), \(failed): order")
                #expect(plan.map(\.agent.name) == chosen.map(\.1), "seed \(seed), \(failed): agents")
            }
        }
    }

    @Test("the plan spreads a failed agent's VIPs by load as the pass does, and never names the failed agent")
    func planCountsItsOwnAssignments() {
        var selection = AgentSelection()
        for name in Self.names { selection.candidateChanged(Self.candidate(name)) }
        // 198.18.16.0/24 is on no subnet: load alone decides, so each agent gets a quarter.
        let vips = (0..<40).map { IPAddress.v4(IPv4Address("198.18.16.0")!.advanced(by: UInt32($0))!) }
        for vip in vips { _ = selection.select(VIPConfiguration(address: vip)) }
        let plan = selection.failoverPlan(for: "eth0", limit: 100) { VIPConfiguration(address: $0) }
        #expect(plan.count == 10)
        #expect(!plan.contains { $0.agent.name == "eth0" })
        let counts = Dictionary(grouping: plan, by: \.agent.name).mapValues(\.count)
        // Without counting its own assignments, all ten would go to one agent (all loads tie at 10).
        #expect(counts.count == 3 && counts.values.max()! - counts.values.min()! <= 1, "\(counts)")
        #expect(selection.failoverPlan(for: "eth0", limit: 3) { VIPConfiguration(address: $0) }.count == 3)
    }

    @Test("no other agent can serve: the plan is empty")
    func noStandby() {
        var selection = AgentSelection()
        selection.candidateChanged(Self.candidate("eth0"))
        selection.candidateChanged(Self.candidate("eth1", eligible: false))
        _ = selection.select(VIPConfiguration(address: .v4(IPv4Address("198.18.1.1")!)))
        #expect(selection.failoverPlan(for: "eth0", limit: 10) { VIPConfiguration(address: $0) }.isEmpty)
    }
}
