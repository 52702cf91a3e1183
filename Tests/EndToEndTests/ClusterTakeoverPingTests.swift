import Foundation
import ProxyARPCore
import ProxyARPTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A 10 ms ping to a VIP while its owner is killed, stopped, and loses all its NICs.
extension ClusterEndToEndTests {
    @Test("10 ms ping across kill -9, SIGTERM, all NICs down and a host crash of the owner: another host answers each time, never two at once")
    func takeoverUnderPing() async throws {
        try await Self.withLab("ping", hosts: 3) { lab, daemons in
            let vips = Array(Self.vips.prefix(3))
            for index in 0..<3 { try daemons.start(index, vips: vips) }
            var owners = try await Self.settledOwners(lab, vips: vips)
            try #require(owners.count == vips.count, "owners: \(owners)")
            let vip = vips[0]
            let probe = try await ClusterProbe.start(lab, daemons: daemons, vips: [vip], name: "ping-arp")
            let ping = try PingProbe.start(lab, daemons: daemons, vip: vip, name: "ping")
            try await Task.sleep(for: .seconds(1))

            var events: [(name: String, victim: Int, at: Double, successor: Int?)] = []
            // kill -9 stops the daemon only: its host keeps the VIP on `lo` and its kernel keeps
            // answering IP traffic sent to its MAC. "host crash" is kill -9 plus carrier loss on both NICs.
            for name in ["kill -9", "SIGTERM", "all NICs down", "host crash"] {
                let victim = try #require(owners[vip])
                let at = Self.wallClock
                switch name {
                case "kill -9": daemons[victim].send(SIGKILL)
                case "SIGTERM": daemons[victim].send(SIGTERM)
                case "host crash":
                    daemons[victim].send(SIGKILL)
                    for adapter in ["ea", "eb"] { try await lab.etcd.lab.ip(lab.fabric, "link", "set", "s\(victim)\(adapter)", "down") }
                default:
                    for adapter in ["ea", "eb"] { try await lab.etcd.lab.ip(lab.fabric, "link", "set", "s\(victim)\(adapter)", "down") }
                }
                owners = try await Self.settledOwners(lab, vips: [vip], excluding: [victim], seconds: 10)
                events.append((name: name, victim: victim, at: at, successor: owners[vip]))
                #expect(owners[vip] != nil && owners[vip] != victim, "\(name): \(vip) not taken over: \(owners)")
                guard owners[vip] != nil else { break }
                try await Task.sleep(for: .seconds(1))
                if name == "kill -9" || name == "SIGTERM" {
                    // Back in the cluster (it takes nothing back: no preemption) for the next round.
                    await daemons[victim].stop(timeout: .seconds(3))
                    try daemons.start(victim, vips: vips)
                    try await Task.sleep(for: .seconds(2))
                }
            }
            let pings = await ping.stop()
            let log = await probe.stop()

            #expect(log.duplicates(vip).isEmpty, "two hosts answered \(vip) within 10 ms: \(log.duplicates(vip).prefix(3))")
            #expect(pings.duplicates == 0, "duplicate ping replies: \(pings.duplicates)")
            #expect(pings.transmitted > 300, "the ping did not run: \(pings.transmitted)")
            var lines: [String] = []
            for event in events {
                // The victim's last answer comes before its successor's first after the event.
                if let successor = event.successor, let first = log.firstAnnouncement(vip, after: event.at, host: { $0 == successor }) {
                    let last = log.answers(vip).last { $0.time > event.at - 5 && $0.time < first && ClusterLab.host(owning: $0.source) == event.victim }
                    #expect(log.answers(vip).filter { $0.time > first && $0.time < first + 1 && ClusterLab.host(owning: $0.source) == event.victim }.isEmpty,
                            "\(event.name): the old owner answered after the new one announced")
                    let loss = pings.loss(from: event.at, to: first + 1)
                    #expect(pings.replies.contains { $0.time > first }, "\(event.name): no ping reply after the takeover")
                    lines.append(
                        "\(event.name) host\(event.victim)→host\(successor): first GARP +\(String(format: "%.1f", (first - event.at) * 1000)) ms, victim's last answer \(last.map { String(format: "%+.1f", ($0.time - event.at) * 1000) } ?? "none") ms, ping lost \(loss.packets) packets, longest gap \(String(format: "%.0f", loss.milliseconds)) ms")
                } else {
                    Issue.record("\(event.name): no announcement from the successor in the capture")
                }
            }
            Self.report("ping 10 ms", lines.joined(separator: "; ") + "; total \(pings.transmitted) sent, \(pings.received) received")
        }
    }
}
