import Foundation
import Glibc
import ProxyARPCore
import ProxyARPIO
import ProxyARPTestSupport
import Testing

/// The link monitor's thread announces a lost agent's standby (issue 13): real captures on
/// two veth adapters sharing a bridge, the real rtnetlink monitor with the announcer as its
/// tap, and the client kernel's neighbour table as the witness.
@Suite("Standby announcer on a namespace lab", .serialized, .enabled(if: getuid() == 0, "needs root for namespaces and pcap"))
struct StandbyAnnouncerTests {
    static let vip = IPv4Address(198, 18, 77, 10)
    /// In the plan but not on the lost agent's proxy list (the plan is older than the table).
    static let movedMeanwhile = IPv4Address(198, 18, 77, 11)

    @Test(
        "carrier loss of the agent: the standby's gratuitous ARP leaves (from the link thread's own socket, or through the standby's capture thread) and moves the client's entry; VIPs no longer on the agent's list are not announced",
        arguments: [true, false])
    func announcesTheStandby(sendsDirectly: Bool) async throws {
        try await SegmentLab.with { lab in
            let (a, b) = (AdapterName(lab.adapterA), AdapterName(lab.adapterB))
            let io = try PcapFrameIO(adapters: [a, b])
            io.start()
            let announcer = StandbyAnnouncer(io: io, sendsDirectly: sendsDirectly, logger: .init(label: "test"))
            let monitor = NetlinkLinkMonitor(names: [a, b], tap: { announcer.linkEvent($0) })
            let recorder = LinkEventRecorder(monitor.events())
            defer {
                recorder.cancel()
                monitor.stop()
            }
            do {
                let macA = try #require(io.mac(of: a))
                let macB = try #require(io.mac(of: b))
                io.answerTable.publish(AnswerTable(
                    generation: 1, proxyLists: [a: ProxyList(agentMAC: macA, vips: [Self.vip])],
                    watchedVIPs: [Self.vip, Self.movedMeanwhile], ownMACs: [macA, macB]))
                io.answerTable.standbys.publish(StandbyPlan(
                    generation: 1, moves: [a: [.init(standby: b, mac: macB, vips: [.v4(Self.vip), .v4(Self.movedMeanwhile)])]]))
                for vip in [Self.vip, Self.movedMeanwhile] {
                    _ = try await lab.lab.ip(lab.client, "neigh", "replace", "\(vip)", "lladdr", "\(macA)", "dev", "br0", "nud", "stale")
                }
                for name in [a, b] {
                    #expect(await recorder.wait { $0.state(of: name.rawValue)?.carrier == true } != nil, "\(name) up")
                }
                // The kernel ignores a neighbour update within `locktime` (1 s) of the last one.
                try await Task.sleep(for: .milliseconds(1_200))
                let sentBefore = try #require(io.counters(for: b)).controlFramesSent
                _ = try await lab.lab.ip(lab.client, "link", "set", "pa", "down")

                var moved = false
                for _ in 0..<60 where !moved {
                    try await Task.sleep(for: .milliseconds(50))
                    let entry = try await lab.lab.ip(lab.client, "neigh", "show", "\(Self.vip)", "dev", "br0").output.lowercased()
                    moved = entry.contains("\(macB)")
                }
                #expect(moved, "the client's entry for the VIP points to the standby")
                #expect(announcer.announcedVIPs == 1)
                let counters = try #require(io.counters(for: b))
                #expect(counters.controlFramesSent - sentBefore == 2, "both gratuitous ARP forms, for one VIP")
                #expect(counters.standbyAnnouncements == 1, "the standby's counter (proxyarpd_standby_announcements_total)")
                let other = try await lab.lab.ip(lab.client, "neigh", "show", "\(Self.movedMeanwhile)", "dev", "br0").output.lowercased()
                #expect(other.contains("\(macA)"), "a VIP no longer on the lost agent's list is left to the control plane: \(other)")

                // The standby's own link lost next: it has no plan and no live standby, nothing is sent.
                _ = try await lab.lab.ip(lab.client, "link", "set", "pb", "down")
                #expect(await recorder.wait { $0.state(of: b.rawValue)?.carrier == false } != nil)
                #expect(announcer.announcedVIPs == 1)
            } catch {
                await io.shutdown()
                throw error
            }
            await io.shutdown()
        }
    }

    @Test("a standby whose own link is down is skipped")
    func skipsADownStandby() async throws {
        try await SegmentLab.with { lab in
            let (a, b) = (AdapterName(lab.adapterA), AdapterName(lab.adapterB))
            let io = try PcapFrameIO(adapters: [a, b])
            io.start()
            let announcer = StandbyAnnouncer(io: io, logger: .init(label: "test"))
            let monitor = NetlinkLinkMonitor(names: [a, b], tap: { announcer.linkEvent($0) })
            let recorder = LinkEventRecorder(monitor.events())
            defer {
                recorder.cancel()
                monitor.stop()
            }
            let macA = io.mac(of: a) ?? .zero
            let macB = io.mac(of: b) ?? .zero
            io.answerTable.publish(AnswerTable(
                generation: 1, proxyLists: [a: ProxyList(agentMAC: macA, vips: [Self.vip])], watchedVIPs: [Self.vip],
                ownMACs: [macA, macB]))
            io.answerTable.standbys.publish(StandbyPlan(generation: 1, moves: [a: [.init(standby: b, mac: macB, vips: [.v4(Self.vip)])]]))
            _ = try await lab.lab.ip(lab.client, "link", "set", "pb", "down")
            let bDown = await recorder.wait { $0.state(of: b.rawValue)?.carrier == false }
            _ = try await lab.lab.ip(lab.client, "link", "set", "pa", "down")
            let aDown = await recorder.wait { $0.state(of: a.rawValue)?.carrier == false }
            await io.shutdown()
            #expect(bDown != nil && aDown != nil)
            #expect(announcer.announcedVIPs == 0)
        }
    }
}
