import Foundation
import ProxyARPActors
import ProxyARPControl
import ProxyARPCore
import ProxyARPIO
import ProxyARPTestSupport
import Testing

@Suite("End to end: another host claims a VIP", .serialized, .enabled(if: endToEndEnabled))
struct ConflictEndToEndTests {
    static let vip = IPv4Address("198.18.0.100")!
    /// The rogue host's MAC: the claimant of the crafted capture's frame 9.
    static let rogueMAC = MACAddress(0x02, 0, 0, 0, 0x0c, 0x01)

    /// A rogue host on the LAN: namespace `rog`, device r0 with the claimant's MAC on the bridge.
    static func addRogue(_ lab: HostLab) async throws -> String {
        let rogue = try await lab.lab.addNamespace("rog")
        try await Command.run(
            "ip", ["-n", rogue, "link", "add", "r0", "address", rogueMAC.description, "type", "veth", "peer", "name", "s-r0", "netns", lab.fabric]
        )
        try await lab.lab.ip(rogue, "link", "set", "r0", "up")
        try await lab.lab.ip(lab.fabric, "link", "set", "s-r0", "master", "br0", "up")
        return rogue
    }

    /// The rogue host sends crafted frame 9: a gratuitous reply claiming 198.18.0.100.
    static func forgeClaim(_ daemon: DaemonLab, from rogue: String) async throws {
        try await daemon.lab.lab.exec(
            rogue, DaemonLab.labBinary, ["inject", "--interface", "r0", "--frames", "9", Fixtures.path(Fixtures.craftedCapture)]
        )
    }

    static func status(_ daemon: DaemonLab) async throws -> StatusReport? {
        let result = try await Command.run("env", [DaemonLab.binary, "status", "--socket", daemon.socketPath, "--json"], check: false)
        guard result.succeeded else { return nil }
        return try ControlCodec.decode(ControlReply.self, from: result.output.trimmingCharacters(in: .newlines)).status
    }

    @Test("a forged gratuitous ARP is defended at once: the client's neighbour entry comes back to the agent; a second claim within 10 s makes the VIP contested; one log line for both")
    func forgedClaimDefended() async throws {
        var rogue = ""
        try await DaemonLab.with("e2ex", vips: [Self.vip.description], prepare: { lab, _ in rogue = try await Self.addRogue(lab) }) { daemon in
            let answers = try await daemon.waitForAnswers([Self.vip])
            let agentMAC = try #require(answers[Self.vip]?.first)
            try await Task.sleep(for: .seconds(4))  // the three announcement rounds are over
            // The client talks to the VIP: its neighbour entry holds the agent's MAC.
            let ping = try await daemon.lab.ping(Self.vip, count: 1, interval: "0.2", deadlineSeconds: 3)
            #expect(ping.received == 1)
            #expect(try await daemon.lab.clientNeighbour(Self.vip)?.mac == agentMAC)
            try await Task.sleep(for: .milliseconds(1200))  // past the client's 1 s locktime

            let capture = try await ClientCapture.start(daemon.lab, directory: daemon.directory, name: "claim")
            try await Self.forgeClaim(daemon, from: rogue)
            // Polled every 20 ms for at most 1 s: the defence puts the agent back.
            var restored = false
            for _ in 0..<50 {
                try await Task.sleep(for: .milliseconds(20))
                if try await daemon.lab.clientNeighbour(Self.vip)?.mac == agentMAC { restored = true; break }
            }
            let frames = try await capture.stop().arpFrames.map(\.frame)
            let forged = frames.firstIndex { $0.arp.senderIP == Self.vip && $0.arp.senderMAC == Self.rogueMAC }
            let defence = frames.lastIndex { $0.isGratuitous && $0.arp.senderIP == Self.vip && $0.arp.senderMAC == agentMAC }
            #expect(forged != nil, "the client heard the forged claim")
            #expect(defence != nil && defence! > forged!, "the agent answered the claim with its own gratuitous ARP")
            #expect(frames.filter { $0.isGratuitous && $0.arp.senderMAC == agentMAC }.count == 2, "one defence: both forms once")
            #expect(restored, "the client's neighbour entry is the agent's again")
            var report = try #require(try await Self.status(daemon))
            #expect(report.engine.conflicts == 1)
            #expect(report.engine.vips.first?.conflict == nil, "defended, not contested")

            // A second claim 2 s later: contested, no second defence within 10 s.
            try await Task.sleep(for: .seconds(2))
            try await Self.forgeClaim(daemon, from: rogue)
            for _ in 0..<50 {
                report = try #require(try await Self.status(daemon))
                if report.engine.conflicts == 2 { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(report.engine.conflicts == 2)
            #expect(report.engine.vips.first?.conflict?.claimedBy == Self.rogueMAC)
            #expect(report.engine.vips.first?.state == "active", "policy defend keeps answering")
            let lines = daemon.log.split(separator: "\n").filter { $0.contains("address conflict: another host claims a VIP") }
            #expect(lines.count == 1, "one log line per VIP per 10 s: \(lines)")
        }
    }

    @Test("a request from another host using the VIP as its own address is a claim, not answered")
    func requestWithVIPAsSender() async throws {
        var rogue = ""
        try await DaemonLab.with("e2ey", vips: [Self.vip.description], prepare: { lab, _ in rogue = try await Self.addRogue(lab) }) { daemon in
            _ = try await daemon.waitForAnswers([Self.vip])
            try await Task.sleep(for: .seconds(4))
            // The rogue host asks for the client with the VIP as its sender address.
            let capture = try await ClientCapture.start(daemon.lab, directory: daemon.directory, name: "sender")
            try await daemon.lab.lab.exec(
                rogue, DaemonLab.labBinary, ["inject", "--interface", "r0", "--frames", "1", Fixtures.path(Fixtures.foreignClaimsCapture)]
            )
            let frames = try await capture.stop().arpFrames.map(\.frame)
            #expect(frames.contains { $0.arp.operation == .request && $0.arp.senderIP == Self.vip && $0.arp.senderMAC == Self.rogueMAC },
                    "the rogue's request went out")
            var conflicts = 0
            for _ in 0..<50 {
                conflicts = try await Self.status(daemon)?.engine.conflicts ?? 0
                if conflicts > 0 { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(conflicts == 1, "counted once, whatever the number of adapters that heard it")
            #expect(!frames.contains { $0.arp.operation == .reply && $0.arp.senderIP == Self.vip && $0.ethernet.destination == Self.rogueMAC },
                    "nobody of ours answered the rogue")
        }
    }
}
