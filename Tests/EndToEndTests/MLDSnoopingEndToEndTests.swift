import Foundation
import ProxyARPCore
import ProxyARPTestSupport
import Testing

/// IPv6 VIPs behind a switch that snoops MLD and is the querier (issue 13): solicitations
/// reach only the ports that joined the target's solicited-node group, so an IPv6 VIP is
/// reachable only through the memberships the daemon joins on its agent, and they must
/// move with the VIP on failover.
@Suite("End to end: IPv6 VIPs behind an MLD-snooping querier switch", .serialized, .enabled(if: endToEndEnabled))
struct MLDSnoopingEndToEndTests {
    /// Solicits `target` until `done` holds for the answering MACs (at most `attempts`
    /// solicitations of `waitMilliseconds` each); returns the last answer.
    static func solicitUntil(
        _ lab: HostLab, _ target: IPv6Address, attempts: Int = 30, waitMilliseconds: Int = 500,
        _ done: ([MACAddress]) -> Bool
    ) async throws -> [MACAddress] {
        var macs: [MACAddress] = []
        for _ in 0..<attempts {
            macs = try await lab.ndisc6(target, waitMilliseconds: waitMilliseconds)
            if done(macs) { return macs }
        }
        return macs
    }

    /// The switch filters: h2's kernel holds an address whose group the switch never learns
    /// (h2's MLD reports are dropped at its port). While the switch floods (no querier yet)
    /// the client resolves it; once the querier is trusted, it does not, while h0's address,
    /// whose group h0 reported, still resolves. Returns the switch.
    static func showSwitchFilters(_ lab: HostLab, plan: IPv6LabPlan) async throws -> MLDSnoopingSwitch {
        let hidden = plan.address(of: "h2")
        let h2 = lab.adapter("h2")!
        let h0 = lab.adapter("h0")!
        let switchBeforeQuerier = MLDSnoopingSwitch(lab: lab)
        try await switchBeforeQuerier.hideReports(of: "h2")
        let flooded = try await solicitUntil(lab, hidden, attempts: 10) { $0 == [h2.mac] }
        #expect(flooded == [h2.mac], "without a querier the switch floods: h2's address resolves (\(flooded))")

        let snooping = try await MLDSnoopingSwitch.enable(on: lab)
        // The querier floods for one response interval (1 s) before it trusts its table.
        let filtered = try await solicitUntil(lab, hidden, attempts: 30) { $0.isEmpty }
        #expect(filtered.isEmpty, "with snooping and a querier, h2's unreported group is not forwarded to h2 (\(filtered))")
        let reported = try await solicitUntil(lab, plan.address(of: "h0"), attempts: 5) { $0 == [h0.mac] }
        #expect(reported == [h0.mac], "h0 reported its group: its address still resolves (\(reported))")
        let groups = try await snooping.memberships()
        #expect(groups.contains { $0.port == h0.switchPort && $0.group == plan.address(of: "h0").solicitedNodeGroup }, "\(groups)")
        #expect(!groups.contains { $0.port == h2.switchPort }, "the switch learnt nothing from h2: \(groups)")
        return snooping
    }

    @Test("the switch forwards a solicitation only to ports that joined its group: a kernel address whose group is not joined is not resolved")
    func switchFilters() async throws {
        let lab = try await HostLab.build(prefix: NetnsLab.uniquePrefix("mlds"))
        defer { lab.destroy() }
        let plan = IPv6LabPlan(site: 0x51)
        try await lab.enableIPv6(plan: plan)
        _ = try await Self.showSwitchFilters(lab, plan: plan)
    }

    @Test("IPv6 VIPs resolve through the agent's memberships, which move with the VIP on carrier loss of the agent")
    func vipsFollowTheirMemberships() async throws {
        let plan = IPv6LabPlan(site: 0x52)
        let vips = [plan.vip(0), plan.vip(1)]
        try await DaemonLab.with("mldv", vips: vips.map(\.description), prepare: { lab, _ in
            try await lab.enableIPv6(plan: plan)
            _ = try await Self.showSwitchFilters(lab, plan: plan)
        }) { daemon in
            let lab = daemon.lab
            let snooping = MLDSnoopingSwitch(lab: lab)
            var agents: [IPv6Address: HostLab.Adapter] = [:]
            for vip in vips {
                let macs = try await lab.waitForAdvertisement(vip, attempts: 30)
                let agent = try #require(macs.first.flatMap { lab.adapter(owning: $0) }, "\(vip) not resolved behind the snooping switch")
                #expect(["h0", "h1"].contains(agent.name), "\(vip) served by \(agent.name), not a same-prefix adapter")
                let ports = try await snooping.ports(joined: vip.solicitedNodeGroup)
                #expect(ports.contains(agent.switchPort), "\(vip): the agent \(agent.name) joined \(vip.solicitedNodeGroup): \(ports)")
                agents[vip] = agent
            }
            // ndisc6 counts every advertisement for the target within its wait, the activation's
            // unsolicited rounds (3, 1.2 s apart) included: once they are over, one per solicitation.
            try await Task.sleep(for: .seconds(3))
            for vip in vips {
                let again = try await lab.ndisc6(vip)
                #expect(again == [agents[vip]!.mac], "\(vip): one advertisement per solicitation, got \(again)")
            }
            let vip = vips[0]
            let oldAgent = try #require(agents[vip])
            let ping = try await lab.ping(vip, count: 3, interval: "0.2", deadlineSeconds: 5)
            #expect(ping.received == 3, "ping -6 \(vip): \(ping)")
            try await Task.sleep(for: .seconds(3))  // announcement rounds done

            try await lab.cutCarrier(oldAgent.name)
            var moved: (mac: MACAddress, state: String)?
            for _ in 0..<400 where moved == nil {
                if let entry = try await lab.clientNeighbour(vip), entry.mac != oldAgent.mac { moved = entry }
                try await Task.sleep(for: .milliseconds(25))
            }
            let newAgent = try #require(moved.flatMap { lab.adapter(owning: $0.mac) }, "the client's neighbour entry for \(vip) never moved")
            #expect(newAgent.name != oldAgent.name && ["h0", "h1"].contains(newAgent.name), "moved to \(newAgent.name)")
            let answered = try await Self.solicitUntil(lab, vip, attempts: 20) { $0 == [newAgent.mac] }
            #expect(answered == [newAgent.mac], "after the failover \(vip) resolves to \(newAgent.name) behind the snooping switch: \(answered)")
            let ports = try await snooping.ports(joined: vip.solicitedNodeGroup)
            #expect(ports.contains(newAgent.switchPort), "the new agent joined \(vip.solicitedNodeGroup): \(ports)")
            let after = try await lab.ping(vip, count: 3, interval: "0.2", deadlineSeconds: 5)
            #expect(after.received == 3, "ping -6 \(vip) after the failover: \(after)")
        }
    }
}
