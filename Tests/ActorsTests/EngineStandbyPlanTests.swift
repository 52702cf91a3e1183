import ProxyARPActors
import ProxyARPCore
import ProxyARPTestSupport
import Testing

/// The selector publishes, beside the answer table, where each agent's VIPs go if its link
/// fails (the link monitor's thread announces them from it, issue 13): it must name the
/// agents the engine's failover then gives them.
@Suite("Engine: the standby plan")
struct EngineStandbyPlanTests {
    /// The plan once it covers every VIP on `agent`, polled (bounded) with real sleeps: it
    /// is refreshed 100 ms after the passes that changed something.
    private func plan(_ lab: EngineLab, covering agent: AdapterName, vips: Set<IPAddress>) async -> [IPAddress: AdapterName]? {
        var plan: [IPAddress: AdapterName] = [:]
        let covered = await lab.eventually(400) {
            plan = [:]
            for move in lab.wire.answerTable.standbys.current.moves[agent] ?? [] {
                for vip in move.vips { plan[vip] = move.standby }
            }
            return Set(plan.keys) == vips
        }
        return covered ? plan : nil
    }

    @Test("VIPs on no adapter's subnet: the plan spreads the lost agent's VIPs by load, and the failover gives each the planned agent")
    func planIsTheFailover() async throws {
        let vips = vipRange("198.18.9.1", count: 30)
        let lab = EngineLab(vips: vips)
        lab.allLinksUp()
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" } })
        let onEth0 = Set(await lab.status().vips.filter { $0.agent == "eth0" }.map(\.vip))
        #expect(onEth0.count == 10)
        let planned = try #require(await plan(lab, covering: "eth0", vips: onEth0), "a plan for every VIP on eth0")
        #expect(Set(planned.values) == ["eth1", "eth2"], "spread by load: \(planned)")

        lab.link("eth0", carrier: false)
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" && $0.agent != "eth0" } })
        let after = Dictionary(uniqueKeysWithValues: await lab.status().vips.map { ($0.vip, $0.agent) })
        for vip in onEth0 {
            let agent = after[vip] ?? nil
            #expect(agent == planned[vip], "\(vip): planned \(planned[vip]?.rawValue ?? "-"), got \(agent?.rawValue ?? "-")")
        }
        // The refreshed plan no longer names the lost agent, which serves nothing.
        #expect(await lab.eventually(400) { lab.wire.answerTable.standbys.current.moves["eth0"] == nil })
        await lab.stop()
        #expect(lab.wire.answerTable.standbys.current == .empty, "withdrawing: the plan is cleared")
    }

    @Test("same-subnet VIPs of both families: the plan names the sibling on the subnet, and the failover agrees")
    func planKeepsTheSubnet() async throws {
        let vips = vipRange("198.18.0.120", count: 6) + [VIPConfiguration(address: IPv6Address("2001:db8::100")!)]
        let lab = EngineLab(vips: vips)
        lab.allLinksUp()
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" } })
        let onEth1 = Set(await lab.status().vips.filter { $0.agent == "eth1" }.map(\.vip))
        #expect(!onEth1.isEmpty)
        let planned = try #require(await plan(lab, covering: "eth1", vips: onEth1))
        #expect(Set(planned.values) == ["eth0"], "eth0 shares eth1's subnets, eth2 does not: \(planned)")
        let move = try #require(lab.wire.answerTable.standbys.current.moves["eth1"]?.first)
        #expect(move.mac == EngineLab.mac(of: "eth0"), "the announcements carry the standby's MAC")

        lab.link("eth1", carrier: false)
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" && $0.agent != "eth1" } })
        let after = Dictionary(uniqueKeysWithValues: await lab.status().vips.map { ($0.vip, $0.agent) })
        #expect(onEth1.allSatisfy { (after[$0] ?? nil) == "eth0" }, "\(after)")
        await lab.stop()
    }
}
