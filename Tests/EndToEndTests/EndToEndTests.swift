import Foundation
import ProxyARPActors
import ProxyARPCore
import ProxyARPIO
import ProxyARPTestSupport
import Testing

@Suite("End to end: the real daemon in network namespaces", .serialized, .enabled(if: endToEndEnabled))
struct EndToEndTests {
    static let vips = ["198.18.0.100", "198.18.0.101", "198.18.0.102", "198.18.1.100"]

    @Test("each VIP gets exactly one reply, from its same-subnet agent, unicast refreshes too; non-VIPs get none; ping works")
    func answersFromTheChosenAgent() async throws {
        try await DaemonLab.with("e2ea", vips: Self.vips) { daemon in
            let first = try await daemon.waitForAnswers(daemon.vips)
            #expect(first.count == daemon.vips.count, "answered: \(first)")
            for vip in daemon.vips {
                // arping sends the first request broadcast, then unicast to the MAC that answered:
                // three replies prove the unicast (NUD-style) requests are answered too.
                let result = try await daemon.lab.lab.exec(
                    daemon.lab.client, "arping", ["-c", "3", "-w", "5", "-I", daemon.lab.clientDevice, vip.description],
                    check: false
                )
                #expect(result.succeeded, "arping accepted the replies: \(result.output)")
                let macs = HostLab.replyMACs(in: result.output)
                #expect(macs.count == 3, "\(vip): \(result.output)")
                #expect(Set(macs).count == 1, "\(vip) answered by \(Set(macs)): ARP flux")
                let agent = try #require(macs.first.flatMap { daemon.lab.adapter(owning: $0) })
                #expect(agent.address.subnet.contains(vip), "\(vip) answered by \(agent.name), not a same-subnet adapter")
            }
            #expect(try await daemon.lab.arping(IPv4Address("198.18.0.77")!, count: 2, timeoutSeconds: 2).isEmpty)
            #expect(try await daemon.lab.arping(IPv4Address("198.18.0.10")!, count: 1, timeoutSeconds: 1).count == 1,
                    "the adapter's own address is still answered by the kernel")
            for vip in daemon.vips {
                let ping = try await daemon.lab.ping(vip, count: 3, interval: "0.2", deadlineSeconds: 5)
                #expect(ping.received == 3, "ping \(vip): \(ping)")
            }
        }
    }

    @Test("of the fixture captures, only the valid request for a VIP is answered; malformed, foreign and non-VIP frames are not")
    func capturedFramesFromTestdata() async throws {
        let testdata = Fixtures.directory
        try await DaemonLab.with("e2ef", vips: ["198.18.0.100"]) { daemon in
            let vip = IPv4Address("198.18.0.100")!
            _ = try await daemon.waitForAnswers([vip])
            try await Task.sleep(for: .seconds(3))  // announcements done
            let ours = Set(daemon.lab.adapters.map(\.mac))
            func repliesFromUs(_ name: String, after injecting: [String]) async throws -> [ARPFrame] {
                let capture = try await ClientCapture.start(daemon.lab, directory: daemon.directory, name: name)
                for arguments in injecting.map({ $0.split(separator: " ").map(String.init) }) {
                    try await daemon.lab.lab.exec(daemon.lab.client, DaemonLab.labBinary, ["inject", "--interface", daemon.lab.clientDevice] + arguments)
                }
                try await Task.sleep(for: .milliseconds(500))
                let all = try await capture.stop().arpFrames.map(\.frame)
                #expect(all.count >= injecting.count, "the capture saw the injected frames")
                return all.filter { ours.contains($0.ethernet.source) && $0.arp.operation == .reply }
            }
            // Crafted 4-7: truncated, bad lengths, RARP opcode, bad hardware type; 12: unicast to another
            // MAC; kernel capture 7: request for 198.18.0.77 (not a VIP); 1: an ICMPv6 router solicitation.
            // VLAN scope 1 and 3: requests for the VIP tagged VLAN 10 and QinQ 20/10, on an untagged adapter.
            let ignored = try await repliesFromUs("ignored", after: [
                "--frames 4,5,6,7,12 \(testdata)/crafted-arp-edge-cases.pcap",
                "--frames 1,7 \(testdata)/linux-arp-ndp.pcap",
                "--frames 1,3 \(testdata)/vlan-scope.pcap",
            ])
            #expect(ignored.isEmpty, "replied to: \(ignored)")
            // Crafted 2: a valid request for 198.18.0.100 padded to 60 bytes: exactly one reply.
            let answered = try await repliesFromUs("answered", after: ["--frames 2 \(testdata)/crafted-arp-edge-cases.pcap"])
            #expect(answered.count == 1, "replies: \(answered)")
            #expect(answered.first?.arp.senderIP == vip)
            // VLAN scope 2: the same request behind a priority tag (VLAN ID 0) is answered, untagged.
            let priority = try await repliesFromUs("priority", after: ["--frames 2 \(testdata)/vlan-scope.pcap"])
            #expect(priority.count == 1, "replies: \(priority)")
            #expect(priority.first?.ethernet.tags.isEmpty == true)
        }
    }

    @Test("gratuitous ARPs on the wire: both forms, the agent's MAC, three rounds more than 1 s apart")
    func gratuitousAnnouncements() async throws {
        try await DaemonLab.with("e2eg", vips: ["198.18.0.100", "198.18.1.100"], captureFromStart: true) { daemon in
            let answers = try await daemon.waitForAnswers(daemon.vips)
            try await Task.sleep(for: .seconds(4))
            let frames = try await daemon.startupCapture!.stop().arpFrames
            for vip in daemon.vips {
                try Self.checkAnnouncements(of: vip, by: answers[vip]?.first, in: frames)
            }
        }
    }

    /// Both forms, from `agentMAC`, three rounds each, more than 1 s apart.
    static func checkAnnouncements(of vip: IPv4Address, by agentMAC: MACAddress?, in frames: [(at: Int64, frame: ARPFrame)]) throws {
        let agentMAC = try #require(agentMAC, "\(vip) never answered")
        let gratuitous = frames.filter { $0.frame.isGratuitous && $0.frame.arp.senderIP == vip }
        let wrongSender = gratuitous.filter { $0.frame.arp.senderMAC != agentMAC || $0.frame.ethernet.source != agentMAC }
        #expect(wrongSender.isEmpty, "\(vip): announcements from another MAC")
        let requests = gratuitous.filter { $0.frame.kind == .gratuitousRequest }
        let replies = gratuitous.filter { $0.frame.kind == .gratuitousReply }
        #expect(requests.count == 3, "\(vip): \(requests.count) gratuitous requests")
        #expect(replies.count == 3, "\(vip): \(replies.count) gratuitous replies")
        let badReplies = replies.filter { $0.frame.arp.targetMAC != agentMAC || $0.frame.ethernet.destination != .broadcast }
        #expect(badReplies.isEmpty, "\(vip): RFC 5944 replies must be broadcast with target MAC = sender MAC")
        let times = requests.map(\.at)
        for (earlier, later) in zip(times, times.dropFirst()) {
            #expect(later - earlier > 1_000_000_000, "\(vip): rounds \(Double(later - earlier) / 1e6) ms apart")
        }
    }

    @Test("carrier loss on the agent: the client's neighbour entry moves to the new agent; only pings sent to the old agent before the gratuitous ARP reached the client are lost; no move back")
    func carrierLossFailover() async throws {
        try await failover(tag: "e2ec", cause: "carrier loss", fail: nil) { lab, agent in try await lab.restoreCarrier(agent) }
    }

    @Test("admin down of the agent: same failover")
    func adminDownFailover() async throws {
        try await failover(tag: "e2ed", cause: "admin down") { lab, agent in try await lab.setAdmin(agent, up: false) } restore: { lab, agent in
            try await lab.setAdmin(agent, up: true)
        }
    }

    private func failover(
        tag: String, cause: String,
        fail: ((HostLab, String) async throws -> Void)?,
        restore: @escaping (HostLab, String) async throws -> Void
    ) async throws {
        try await DaemonLab.with(tag, vips: Self.vips) { daemon in
            let vip = IPv4Address("198.18.0.100")!
            let answers = try await daemon.waitForAnswers(daemon.vips)
            let oldMAC = try #require(answers[vip]?.first)
            let oldAgent = try #require(daemon.lab.adapter(owning: oldMAC))
            // Let the three announcement rounds finish, so the failover is alone on the wire.
            try await Task.sleep(for: .seconds(3))
            let capture = try await WireCapture.start(
                namespace: daemon.lab.client, device: daemon.lab.clientDevice, filter: "arp or icmp", directory: daemon.directory, name: "failover")
            var adapters = try await FailoverWitness.start(daemon.lab, filter: "icmp or arp", directory: daemon.directory)
            let witness = try await LinkLossWitness.start(
                device: oldAgent.name, namespace: daemon.lab.host, directory: daemon.directory, name: "link-monitor")
            let pinger = Task { try await daemon.lab.ping(vip, count: 300, interval: "0.01", deadlineSeconds: 10) }
            try await Task.sleep(for: .seconds(1))
            let cutAt = SystemClock().wallNanoseconds()
            if let fail {
                try await fail(daemon.lab, oldAgent.name)
            } else {
                try await adapters.cutCarrier(daemon.lab, oldAgent, directory: daemon.directory)
            }
            let cutReturnedAt = SystemClock().wallNanoseconds()
            var neighbourAt: Int64?
            var neighbour: MACAddress?
            for _ in 0..<2000 where neighbourAt == nil {
                if let entry = try await daemon.lab.clientNeighbour(vip), entry.mac != oldMAC {
                    neighbourAt = SystemClock().wallNanoseconds()
                    neighbour = entry.mac
                }
            }
            let pings = try await pinger.value
            let clientFile = try await capture.stop()
            let frames = clientFile.arpFrames
            let ledger = EchoLedger(client: clientFile, clientMAC: daemon.lab.clientMAC, adapters: try await adapters.stop())
            let witnessedAt = await witness.stop()
            let newAgent = try #require(neighbour.flatMap { daemon.lab.adapter(owning: $0) }, "neighbour entry never moved")
            #expect(newAgent.name != oldAgent.name)
            #expect(newAgent.address.subnet.contains(vip), "moved to the other same-subnet adapter")
            let garp = frames.first { $0.at >= cutAt && $0.frame.isGratuitous && $0.frame.arp.senderIP == vip && $0.frame.arp.senderMAC == newAgent.mac }
            #expect(garp != nil, "the client saw a gratuitous ARP from the new agent")
            let lost = pings.sent - pings.received
            let garpMs = garp.map { Double($0.at - cutAt) / 1e6 } ?? -1
            let neighbourMs = neighbourAt.map { Double($0 - cutAt) / 1e6 } ?? -1
            print("[e2e] \(cause): first GARP from new agent after \(String(format: "%.2f", garpMs)) ms, client neighbour updated after \(String(format: "%.2f", neighbourMs)) ms, 10 ms ping lost \(lost)/\(pings.sent)")
            let timeline = FailoverTimeline(
                trace: try await daemon.dumpTrace(), vip: .v4(vip), oldAgent: oldAgent.name, cutStartedAt: cutAt,
                cutReturnedAt: cutReturnedAt, witnessedAt: witnessedAt, firstAnnouncementAt: garp?.at)
            print("[e2e] \(cause) timeline: \(timeline.summary)")
            let sent = adapters.adapterCaptures.first { $0.adapter.name == newAgent.name }.flatMap { try? $0.capture.file() }
            let left = sent?.arpFrames.first { $0.at >= cutAt && $0.frame.isGratuitous && $0.frame.arp.senderIP == vip && $0.frame.arp.senderMAC == newAgent.mac }
            let report = adapters.report(
                ledger: ledger, timeline: timeline, daemonLog: daemon.log, oldAgent: oldAgent, cutAt: cutAt,
                announcementLeftAt: left?.at, announcementReachedAt: garp?.at)
            print("[e2e] \(cause) echoes, \(report)")
            #expect(pings.sent >= 250)
            // Only a request sent to the old agent's MAC between the cut and the client's receipt
            // of the gratuitous ARP may be lost (nobody can take it; see the IPv6 test).
            // The link monitor's thread announced the standby agent itself (the standby plan),
            // besides the engine's own rounds.
            #expect(
                FailoverWitness.standbyAnnouncedAt(in: daemon.log, from: oldAgent.name, after: cutAt) != nil,
                "the link monitor's thread announced the standby agent")
            let unexplained = ledger.lossesOutsideTheWindow(oldMAC: oldMAC, oldAgent: oldAgent.name, announcedAt: garp?.at)
            #expect(unexplained.isEmpty, "echoes lost outside the window between the \(cause) and the GARP: \(unexplained)")
            #expect(ledger.lost.count == lost, "the captures account for every lost echo: \(ledger.lost.count) vs ping's \(lost)")

            // The old agent comes back: no preempt, so nothing moves back.
            try await restore(daemon.lab, oldAgent.name)
            try await Task.sleep(for: .seconds(3))
            let after = try await daemon.lab.arping(vip, count: 2, timeoutSeconds: 3)
            #expect(!after.isEmpty && after.allSatisfy { $0 == newAgent.mac }, "after \(oldAgent.name) came back: \(after)")
        }
    }

    @Test("an adapter with carrier but cut off from the segment is never confirmed nor active; the VIP moves to one that is heard")
    func cutOffAdapter() async throws {
        // h0 wins the tie-break between the two same-subnet adapters, so it is tried first.
        try await DaemonLab.with("e2ei", vips: ["198.18.0.100"], prepare: { lab, _ in try await lab.isolate("h0") }) { daemon in
            let vip = IPv4Address("198.18.0.100")!
            let answers = try await daemon.waitForAnswers([vip])
            let h1 = daemon.lab.adapter("h1")!
            #expect(answers[vip] == [h1.mac], "answered by \(answers[vip] ?? [])")
            let records = try await daemon.dumpTrace().filter { $0.subject == .vip(vip) }
            #expect(records.contains { $0.to.hasPrefix("broadcast(h0") }, "h0 was tried first")
            #expect(records.contains { $0.to == "pending(announcements via h0 unconfirmed)" })
            #expect(!records.contains { $0.to.hasPrefix("active(h0") || $0.to.hasPrefix("enqueued(h0") })
            #expect(records.contains { $0.to.hasPrefix("active(h1") })
        }
    }

    @Test("SIGHUP applies an added and a removed VIP without re-announcing the others; a broken file is refused; SIGTERM leaves lo clean and restores the adapters' sysctls")
    func reloadAndShutdown() async throws {
        try await DaemonLab.with("e2er", vips: ["198.18.0.100", "198.18.0.101"]) { daemon in
            let (kept, removed, added) = (IPv4Address("198.18.0.101")!, IPv4Address("198.18.0.100")!, IPv4Address("198.18.0.102")!)
            _ = try await daemon.waitForAnswers([removed, kept])
            // What the daemon sets on each adapter, and what a new interface of the lab's
            // namespace gets (what h0 had before the daemon started; issue 11, failure 8).
            let running = try await Self.adapterSysctls(daemon.lab, "h0")
            let original = try await Self.adapterSysctls(daemon.lab, "default")
            #expect(running == ["1", "2", "1"], "arp_ignore, arp_announce, ignore_routes_with_linkdown")
            #expect(original != running, "the test needs a namespace whose defaults differ")
            try await Task.sleep(for: .seconds(3))  // announcement rounds done
            let capture = try await ClientCapture.start(daemon.lab, directory: daemon.directory, name: "reload")
            let yaml = daemon.lab.configurationYAML(vips: ["198.18.0.101", "198.18.0.102"], directory: daemon.directory)
            try yaml.write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
            daemon.daemon.send(SIGHUP)
            let answered = try await daemon.waitForAnswers([added])
            #expect(answered[added] != nil, "the added VIP answers")
            var removedGone = false
            for _ in 0..<10 where !removedGone {
                removedGone = try await daemon.lab.arping(removed, count: 1, timeoutSeconds: 1).isEmpty
            }
            #expect(removedGone, "the removed VIP no longer answers")
            let onLoopback = try await daemon.loopbackVIPs()
            #expect(onLoopback == [kept, added], "lo holds \(onLoopback)")
            let frames = try await capture.stop().arpFrames
            #expect(!frames.contains { $0.frame.isGratuitous && $0.frame.arp.senderIP == kept }, "the kept VIP was not re-announced")

            try "adapters: [\n  - name: h0\nvips: nope\n".write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
            daemon.daemon.send(SIGHUP)
            var refused = false
            for _ in 0..<50 where !refused {
                try await Task.sleep(for: .milliseconds(100))
                refused = daemon.log.contains("reload refused")
            }
            #expect(refused, "the broken file is logged and refused")
            #expect(try await daemon.lab.arping(kept, count: 1, timeoutSeconds: 2).count == 1, "the running config still answers")
            #expect(try await daemon.lab.arping(added, count: 1, timeoutSeconds: 2).count == 1)

            let code = await daemon.daemon.stop(timeout: .seconds(5))
            #expect(code == 0, "clean exit on SIGTERM")
            #expect(try await daemon.loopbackVIPs().isEmpty, "no VIP left on lo")
            #expect(try await Self.adapterSysctls(daemon.lab, "h0") == original, "sysctls written back at exit")
        }
    }

    /// `arp_ignore`, `arp_announce` and `ignore_routes_with_linkdown` of `interface` (or
    /// `default`) in the lab's host namespace.
    static func adapterSysctls(_ lab: HostLab, _ interface: String) async throws -> [String] {
        var values: [String] = []
        for key in ["arp_ignore", "arp_announce", "ignore_routes_with_linkdown"] {
            let output = try await lab.lab.exec(lab.host, "sysctl", ["-n", "net.ipv4.conf.\(interface).\(key)"]).output
            values.append(output.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return values
    }
}
