import Foundation
import ProxyARPControl
import ProxyARPCore
import ProxyARPTestSupport
import Testing

/// Issue 11, failure 1: `ip link del h0`, then h0 re-created (same name, MAC, address).
@Suite("End to end: an adapter deleted and re-created", .serialized, .enabled(if: endToEndEnabled))
struct AdapterLifecycleEndToEndTests {
    /// Eleven VIPs: nine in h0/h1's subnet, two in h2's.
    static let vips = (100...108).map { "198.18.0.\($0)" } + ["198.18.1.100", "198.18.1.101"]

    @Test("after delete + re-create: one MAC per VIP, arp_ignore set again, eligible after hold-down; a later carrier loss leaves no VIP pending")
    func deleteAndRecreate() async throws {
        try await DaemonLab.with("e2ek", vips: Self.vips, timers: ["hold_down": "1s"]) { daemon in
            let lab = daemon.lab
            let addresses = Self.vips.map { IPv4Address($0)! }
            let first = try await daemon.waitForAnswers(addresses)
            #expect(first.count == addresses.count, "answered: \(first)")
            _ = try await ControlSocketTests.statusWhenActive(daemon, count: addresses.count)

            try await lab.deleteAdapter("h0")
            // The VIPs h0 served move at once: every VIP is active on h1 or h2.
            let moved = try await Self.status(of: daemon, until: { report in
                report.engine.vips.allSatisfy { $0.state == "active" && $0.agent != "h0" }
            })
            #expect(moved != nil, "VIPs did not leave the deleted h0")

            try await lab.recreateAdapter("h0")
            // Set up again from scratch: sysctls (bounded wait), then eligible after the hold-down.
            var arpIgnore = ""
            for _ in 0..<50 where arpIgnore != "1" {
                arpIgnore = try await Self.sysctl(lab, "net.ipv4.conf.h0.arp_ignore")
                if arpIgnore != "1" { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(arpIgnore == "1")
            #expect(try await Self.sysctl(lab, "net.ipv4.conf.h0.arp_announce") == "2")
            #expect(try await Self.sysctl(lab, "net.ipv4.conf.h0.ignore_routes_with_linkdown") == "1")
            let eligible = try await Self.status(of: daemon, until: { report in
                report.engine.adapters.first { $0.name == "h0" }?.eligible == true
            })
            #expect(eligible != nil, "h0 never became eligible again")
            let h0 = try await daemon.dumpTrace().filter { $0.subject == .adapter("h0") }
            #expect(h0.contains { $0.to.hasPrefix("holdDown(removed") }, "h0 waited out a hold-down after its re-creation")

            // Every VIP is answered by exactly one MAC: no kernel reply with h0's MAC.
            for vip in addresses {
                let result = try await lab.lab.exec(
                    lab.client, "arping", ["-c", "2", "-w", "4", "-I", lab.clientDevice, vip.description], check: false)
                let macs = HostLab.replyMACs(in: result.output)
                #expect(macs.count == 2, "\(vip): \(result.output)")
                #expect(Set(macs).count == 1, "\(vip) answered by \(Set(macs)): ARP flux")
            }

            // h1 loses carrier: its VIPs move (to h0, re-created, or h2) and none stays pending.
            try await lab.cutCarrier("h1")
            let settled = try await Self.status(of: daemon, until: { report in
                report.engine.vips.count == addresses.count
                    && report.engine.vips.allSatisfy { $0.state == "active" && $0.agent != "h1" }
            })
            guard let settled else {
                let last = try await Self.status(of: daemon, until: { _ in true })
                Issue.record("""
                    VIPs stuck after h1's carrier loss: \(last?.engine.vips.map { "\($0.vip) \($0.state) \($0.detail)" } ?? [])
                    adapters: \(last?.engine.adapters.map { "\($0.name) \($0.state)" } ?? [])
                    daemon log:
                    \(daemon.log.suffix(8000))
                    """)
                return
            }
            #expect(settled.engine.adapters.first { $0.name == "h2" }?.eligible == true, "the healthy h2 was put on hold")
            #expect(settled.engine.vips.contains { $0.agent == "h0" }, "the re-created h0 serves again")
            let answers = try await daemon.waitForAnswers(addresses)
            for vip in addresses {
                let agent = settled.engine.vips.first { $0.vip == vip }?.agentMAC
                #expect(answers[vip] == agent.map { [$0] }, "\(vip): \(answers[vip] ?? [])")
            }
        }
    }

    /// `status --json` polled (bounded: 60 × 250 ms) until `condition` holds; nil if it never did.
    static func status(of daemon: DaemonLab, until condition: (StatusReport) -> Bool) async throws -> StatusReport? {
        for _ in 0..<60 {
            let result = try await ControlSocketTests.cli(["status", "--socket", daemon.socketPath, "--json"], check: false)
            if result.succeeded,
                let report = try ControlCodec.decode(ControlReply.self, from: result.output.trimmingCharacters(in: .newlines)).status,
                condition(report)
            {
                return report
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        return nil
    }

    /// A sysctl of the lab's host namespace.
    static func sysctl(_ lab: HostLab, _ key: String) async throws -> String {
        try await lab.lab.exec(lab.host, "sysctl", ["-n", key]).output.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
