import Foundation
import ProxyARPCore
import ProxyARPTestSupport
import Testing

/// IPv6 VIPs added to, and removed from, a daemon that started without any, by SIGHUP: the
/// captures follow the table (Neighbor Discovery in their filter while there are IPv6 VIPs).
@Suite("end to end: reloads adding the first and removing the last IPv6 VIP", .serialized, .enabled(if: endToEndEnabled, "needs root and the built proxyarpd"))
struct IPv6ReloadEndToEndTests {
    /// Rewrites the daemon's config for `vips` and sends SIGHUP.
    static func reload(_ daemon: DaemonLab, vips: [String]) throws {
        let yaml = daemon.lab.configurationYAML(vips: vips, directory: daemon.directory)
        try yaml.write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        daemon.daemon.send(SIGHUP)
    }

    @Test("started IPv4-only, a SIGHUP adding an IPv6 VIP serves it (ndisc6, ping -6: the agent's MAC); removing it again leaves ARP only, the IPv4 VIP answered throughout")
    func reloadAddsFirstIPv6VIP() async throws {
        let v4 = IPv4Address("198.18.0.100")!
        let v6 = IPv6EndToEndTests.vipA
        try await DaemonLab.with("e6h", vips: [v4.description], prepare: { lab, _ in try await lab.enableIPv6() }) { daemon in
            let lab = daemon.lab
            let before = try await daemon.waitForAnswers([v4])
            let v4Agent = try #require(before[v4]?.first, "\(v4) never answered")
            #expect(try await lab.ndisc6(v6).isEmpty, "\(v6) answered before it was configured")

            try Self.reload(daemon, vips: [v4.description, v6.description])
            let first = try await lab.waitForAdvertisement(v6)
            let agent = try #require(first.first.flatMap { lab.adapter(owning: $0) }, "\(v6) never advertised after the reload: \(first)")
            #expect(IPv6EndToEndTests.sameSubnet(v6, agent), "\(v6) answered by \(agent.name)")
            try await Task.sleep(for: .seconds(3))  // the activation's unsolicited rounds are over
            #expect(try await lab.ndisc6(v6) == [agent.mac], "one advertisement per solicitation")
            let pings = try await lab.ping(v6, count: 3, interval: "0.2", deadlineSeconds: 5)
            #expect(pings.sent == 3 && pings.received == 3, "ping -6 \(v6): \(pings)")
            let neighbour = try await lab.clientNeighbour(v6)
            #expect(neighbour?.mac == agent.mac, "ip -6 neigh \(v6): \(String(describing: neighbour))")
            let groups = try await lab.lab.ip(lab.host, "-6", "maddr", "show", "dev", agent.name).output
            #expect(groups.contains("\(v6.solicitedNodeGroup)"), "\(agent.name) groups: \(groups)")
            #expect(try await lab.arping(v4, count: 2, timeoutSeconds: 3) == [v4Agent, v4Agent], "\(v4) after the first reload")
            // The captures switched to Neighbor Discovery and narrowed with an NDP clause.
            let log = daemon.log
            #expect(log.contains("capture filter: IPv6 VIPs, with Neighbor Discovery"), "no switch logged")
            #expect(log.contains("ipv6_groups_served=1"), "no adapter narrowed to serve the IPv6 VIP")
            #expect(!log.contains("served after a restart"))

            try Self.reload(daemon, vips: [v4.description])
            var gone = false
            for _ in 0..<50 where !gone {
                try await Task.sleep(for: .milliseconds(200))
                gone = !(try await lab.lab.ip(lab.host, "-6", "addr", "show", "dev", "lo").output.contains("\(v6)/128"))
            }
            #expect(gone, "\(v6) still on lo after the second reload")
            #expect(try await lab.ndisc6(v6).isEmpty, "\(v6) still answered after the second reload")
            #expect(try await lab.arping(v4, count: 2, timeoutSeconds: 3) == [v4Agent, v4Agent], "\(v4) after the second reload")
            var switchedBack = false
            for _ in 0..<20 where !switchedBack {
                switchedBack = daemon.log.contains("capture filter: no IPv6 VIPs, ARP only")
                if !switchedBack { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(switchedBack, "the captures kept Neighbor Discovery")
        }
    }
}
