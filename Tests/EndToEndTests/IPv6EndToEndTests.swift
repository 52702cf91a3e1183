import Foundation
import ProxyARPCore
import ProxyARPIO
import ProxyARPStateMachines
import ProxyARPTestSupport
import Testing

/// IPv6 VIPs served by the real daemon in the namespace lab (IPv6 on, lab addresses
/// `nodad`, see ``HostLab/enableIPv6(plan:)``), against the client's kernel, `ndisc6`, `ping -6`
/// and tcpdump.
@Suite("end to end: IPv6 VIPs over Neighbor Discovery", .serialized, .enabled(if: endToEndEnabled, "needs root and the built proxyarpd"))
struct IPv6EndToEndTests {
    static let vipA = IPv6Address("2001:db8::100")!
    static let vipB = IPv6Address("2001:db8::101")!
    /// On h2's /64 alone (``IPv6LabPlan/standard``: `2001:db8:0:1::/64`).
    static let vipFar = IPv6Address("2001:db8:0:1::100")!
    static let vips = [vipA, vipB, vipFar]

    /// The host adapter whose IPv6 /64 holds `vip` must be its agent.
    static func sameSubnet(_ vip: IPv6Address, _ adapter: HostLab.Adapter) -> Bool {
        IPv6LabPlan.standard.prefix(of: adapter.name).contains(vip)
    }

    @Test("each IPv6 VIP resolves (ndisc6, the client kernel) to its same-subnet agent, one advertisement per solicitation; ping -6 works; lo, rule and group are in place")
    func resolvesToSameSubnetAgent() async throws {
        try await DaemonLab.with("e6r", vips: Self.vips.map(\.description), prepare: { lab, _ in try await lab.enableIPv6() }) { daemon in
            let lab = daemon.lab
            var agents: [IPv6Address: HostLab.Adapter] = [:]
            for vip in Self.vips {
                let first = try await lab.waitForAdvertisement(vip)
                let agent = try #require(first.first.flatMap { lab.adapter(owning: $0) }, "\(vip) never advertised: \(first)")
                #expect(Self.sameSubnet(vip, agent), "\(vip) answered by \(agent.name)")
                agents[vip] = agent
            }
            // ndisc6 counts every advertisement for the target within its wait, the
            // activation's unsolicited ones (3 rounds, 1.2 s apart) included: once those are
            // over, exactly one answer per solicitation, from the agent.
            try await Task.sleep(for: .seconds(3))
            for vip in Self.vips {
                let again = try await lab.ndisc6(vip)
                #expect(again == [agents[vip]!.mac], "one advertisement per solicitation for \(vip): \(again)")
            }
            for vip in Self.vips {
                let pings = try await lab.ping(vip, count: 3, interval: "0.2", deadlineSeconds: 5)
                #expect(pings.sent == 3 && pings.received == 3, "ping -6 \(vip): \(pings)")
                let neighbour = try await lab.clientNeighbour(vip)
                #expect(neighbour?.mac == agents[vip]?.mac, "ip -6 neigh \(vip): \(String(describing: neighbour))")
            }
            // Host side: VIP/128 on lo, the rule into the agent's table, the solicited-node
            // group joined on the agent, and traffic from the VIP routed out of the agent.
            let lo = try await lab.lab.ip(lab.host, "-6", "addr", "show", "dev", "lo").output
            let rules = try await lab.lab.ip(lab.host, "-6", "rule", "show").output
            for vip in Self.vips {
                #expect(lo.contains("\(vip)/128"), "lo: \(lo)")
                #expect(rules.contains("from \(vip) lookup"), "ip -6 rule: \(rules)")
                let agent = try #require(agents[vip])
                let groups = try await lab.lab.ip(lab.host, "-6", "maddr", "show", "dev", agent.name).output
                #expect(groups.contains("\(vip.solicitedNodeGroup)"), "\(agent.name) groups: \(groups)")
                let route = try await lab.lab.ip(lab.host, "-6", "route", "get", "2001:db8::1", "from", "\(vip)").output
                #expect(route.contains("dev \(agent.name)") || !Self.sameSubnet(IPv6Address("2001:db8::1")!, agent), "route from \(vip): \(route)")
            }
            let status = try await Command.run(DaemonLab.binary, ["status", "--socket", daemon.socketPath], check: false).output
            print("[e2e-ipv6] status:\n\(status)")
            for vip in Self.vips { #expect(status.contains("\(vip)"), "status lists \(vip)") }
        }
    }

    @Test("a DAD probe for an active IPv6 VIP is defended; malformed solicitations and other targets are never answered")
    func defendsProbeAndIgnoresMalformed() async throws {
        // Frames of Tests/Fixtures/linux-ndp.pcap target 2001:db8::2 (see its README).
        let vip = IPv6Address("2001:db8::2")!
        try await DaemonLab.with(
            "e6m", vips: [vip.description], timers: ["announce_count": "1"], prepare: { lab, _ in try await lab.enableIPv6() }
        ) { daemon in
            let lab = daemon.lab
            let agentMAC = try #require(try await lab.waitForAdvertisement(vip).first)
            #expect(lab.adapter(owning: agentMAC) != nil)
            try await Task.sleep(for: .milliseconds(500))
            let capture = try await NDPCapture.start(lab, directory: daemon.directory, name: "malformed")

            func advertisements(after frames: String) async throws -> [NDPFrame] {
                let mark = try await capture.count()
                try await lab.lab.exec(
                    lab.client, DaemonLab.labBinary,
                    ["inject", "--interface", lab.clientDevice, "--frames", frames, Fixtures.path("linux-ndp.pcap")])
                try await Task.sleep(for: .milliseconds(400))
                return try await capture.advertisements(since: mark).filter { lab.adapter(owning: $0.ethernet.source) != nil }
            }

            // Bad checksum, hop limit 64, zero-length option, overrunning option, a target
            // nobody serves, truncated: never answered.
            for frame in ["9", "10", "12", "13", "24", "27"] {
                let answered = try await advertisements(after: frame)
                #expect(answered.isEmpty, "frame \(frame) was answered: \(answered)")
            }
            // The valid solicitation of the same capture: exactly one solicited answer.
            let valid = try await advertisements(after: "7")
            #expect(valid.count == 1, "\(valid)")
            #expect(valid.first?.message == .advertisement(NDPAdvertisementFlags(solicited: true, override: true)))
            #expect(valid.first?.linkLayerAddress == agentMAC)
            // A DAD probe for the VIP: defended to all-nodes, S=0 O=1, the agent's MAC.
            let defence = try await advertisements(after: "3")
            #expect(defence.count == 1, "\(defence)")
            #expect(defence.first?.destination == .allNodes)
            #expect(defence.first?.message == .advertisement(NDPAdvertisementFlags(solicited: false, override: true)))
            #expect(defence.first?.linkLayerAddress == agentMAC)
            await capture.stop()
        }
    }

    @Test("carrier loss of an IPv6 VIP's agent: the client's neighbour entry moves (unsolicited advertisement); a 10 ms ping -6 loses only requests sent to the old agent before the advertisement reached the client")
    func carrierLossFailover() async throws {
        let vip = Self.vipA
        try await DaemonLab.with("e6f", vips: [vip.description], prepare: { lab, _ in try await lab.enableIPv6() }) { daemon in
            let lab = daemon.lab
            let oldMAC = try #require(try await lab.waitForAdvertisement(vip).first)
            let oldAgent = try #require(lab.adapter(owning: oldMAC))
            _ = try await lab.ping(vip, count: 1, interval: "0.2", deadlineSeconds: 3)  // the client's entry exists
            try await Task.sleep(for: .seconds(3))  // the activation's announcement rounds are over
            let capture = try await NDPCapture.start(lab, directory: daemon.directory, name: "failover6")
            var adapters = try await FailoverWitness.start(lab, filter: "icmp6", directory: daemon.directory)
            let witness = try await LinkLossWitness.start(device: oldAgent.name, namespace: lab.host, directory: daemon.directory, name: "link-monitor")
            let pinger = Task { try await lab.ping(vip, count: 300, interval: "0.01", deadlineSeconds: 10) }
            try await Task.sleep(for: .seconds(1))
            let cutAt = SystemClock().wallNanoseconds()
            try await adapters.cutCarrier(lab, oldAgent, directory: daemon.directory)
            let cutReturnedAt = SystemClock().wallNanoseconds()
            var neighbourAt: Int64?
            var neighbour: MACAddress?
            for _ in 0..<2000 where neighbourAt == nil {
                if let entry = try await lab.clientNeighbour(vip), entry.mac != oldMAC {
                    neighbourAt = SystemClock().wallNanoseconds()
                    neighbour = entry.mac
                }
            }
            let pings = try await pinger.value
            let frames = try await capture.timedAdvertisements()
            await capture.stop()
            let ledger = EchoLedger(client: try CaptureFile(path: capture.path), clientMAC: lab.clientMAC, adapters: try await adapters.stop())
            let witnessedAt = await witness.stop()
            let newAgent = try #require(neighbour.flatMap { lab.adapter(owning: $0) }, "neighbour entry never moved")
            #expect(newAgent.name != oldAgent.name)
            #expect(Self.sameSubnet(vip, newAgent), "moved to the other same-subnet adapter")
            let announcement = frames.first {
                $0.at >= cutAt && $0.frame.target == vip && $0.frame.ethernet.source == newAgent.mac && $0.frame.destination == .allNodes
            }
            #expect(announcement != nil, "the client saw an unsolicited advertisement from the new agent")
            let lost = pings.sent - pings.received
            let naMs = announcement.map { Double($0.at - cutAt) / 1e6 } ?? -1
            let neighbourMs = neighbourAt.map { Double($0 - cutAt) / 1e6 } ?? -1
            let trace = try await daemon.dumpTrace()
            let took = trace.filter { $0.subject == .vip(.v6(vip)) && $0.action.contains("failover true") }.map(\.action)
            print("[e2e-ipv6] carrier loss: first unsolicited NA from the new agent after \(String(format: "%.2f", naMs)) ms, client neighbour updated after \(String(format: "%.2f", neighbourMs)) ms, 10 ms ping -6 lost \(lost)/\(pings.sent); daemon: \(took)")
            let timeline = FailoverTimeline(
                trace: trace, vip: .v6(vip), oldAgent: oldAgent.name, cutStartedAt: cutAt, cutReturnedAt: cutReturnedAt,
                witnessedAt: witnessedAt, firstAnnouncementAt: announcement?.at)
            print("[e2e-ipv6] carrier loss timeline: \(timeline.summary)")
            let sent = adapters.adapterCaptures.first { $0.adapter.name == newAgent.name }.flatMap { try? $0.capture.file() }
            let report = adapters.report(
                ledger: ledger, timeline: timeline, daemonLog: daemon.log, oldAgent: oldAgent, cutAt: cutAt,
                announcementLeftAt: sent.flatMap { Self.firstAnnouncement(of: vip, from: newAgent.mac, in: $0, after: cutAt) },
                announcementReachedAt: announcement?.at)
            print("[e2e-ipv6] carrier loss echoes, \(report)")
            #expect(pings.sent >= 250)
            // What the failover can promise (issue 13): a request the client sends between the
            // carrier loss and its receipt of the new agent's NA goes to the old agent's MAC;
            // the bridge has forgotten that MAC's port and floods it, and no live adapter takes
            // a frame for another MAC, so nobody can answer it (nor a reply the old agent sends
            // after the cut). Whether one such request falls in that window depends on how soon
            // the kernel's report reaches the daemon's link thread, which then sends the standby's
            // NA itself (the timeline above: about 0.3 ms later). Every other echo must come back.
            let unexplained = ledger.lossesOutsideTheWindow(oldMAC: oldMAC, oldAgent: oldAgent.name, announcedAt: announcement?.at)
            #expect(unexplained.isEmpty, "echoes lost outside the window between the cut and the NA: \(unexplained)")
            // The link monitor's thread announced the standby agent itself (the standby plan),
            // besides the engine's own rounds.
            #expect(
                FailoverWitness.standbyAnnouncedAt(in: daemon.log, from: oldAgent.name, after: cutAt) != nil,
                "the link monitor's thread announced the standby agent")
            #expect(ledger.lost.count == lost, "the captures account for every lost echo: \(ledger.lost.count) vs ping's \(lost)")
            // Make before break: the group now on the new agent, the rule into its table.
            let groups = try await lab.lab.ip(lab.host, "-6", "maddr", "show", "dev", newAgent.name).output
            #expect(groups.contains("\(vip.solicitedNodeGroup)"), "\(newAgent.name) groups: \(groups)")
            let oldGroups = try await lab.lab.ip(lab.host, "-6", "maddr", "show", "dev", oldAgent.name).output
            #expect(!oldGroups.contains("\(vip.solicitedNodeGroup)"), "\(oldAgent.name) still in the group: \(oldGroups)")
        }
    }

    /// The time of the first unsolicited advertisement for `vip` from `mac` in `file` at or
    /// after `after`.
    static func firstAnnouncement(of vip: IPv6Address, from mac: MACAddress, in file: CaptureFile, after: Int64) -> Int64? {
        zip(file.frames, file.timestamps).first { bytes, at in
            guard at >= after, case .ndp(let frame) = NDPParser.parse(bytes), case .advertisement = frame.message else { return false }
            return frame.target == vip && frame.ethernet.source == mac && frame.destination == .allNodes
        }?.1
    }

    @Test("a mixed config serves IPv4 and IPv6 VIPs as two independent sets; a reload removing the IPv6 VIP leaves the IPv4 one")
    func mixedConfiguration() async throws {
        let v4 = IPv4Address("198.18.0.100")!
        let v6 = Self.vipA
        try await DaemonLab.with("e6x", vips: [v4.description, v6.description], prepare: { lab, _ in try await lab.enableIPv6() }) { daemon in
            let lab = daemon.lab
            let arp = try await daemon.waitForAnswers([v4])
            #expect(arp[v4]?.count == 1, "\(arp)")
            #expect(!(try await lab.waitForAdvertisement(v6)).isEmpty)
            try await Task.sleep(for: .seconds(3))  // the activation's unsolicited rounds are over
            let nd = try await lab.ndisc6(v6)
            #expect(nd.count == 1, "\(nd)")
            let v4Agent = try #require(arp[v4]?.first.flatMap { lab.adapter(owning: $0) })
            let v6Agent = try #require(nd.first.flatMap { lab.adapter(owning: $0) })
            #expect(v4Agent.address.subnet.contains(v4))
            #expect(Self.sameSubnet(v6, v6Agent))

            // Reload without the IPv6 VIP: it goes (lo, rule, answers), the IPv4 one stays.
            let yaml = lab.configurationYAML(vips: [v4.description], directory: daemon.directory)
            try yaml.write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
            daemon.daemon.send(SIGHUP)
            var gone = false
            for _ in 0..<50 where !gone {
                try await Task.sleep(for: .milliseconds(200))
                let lo = try await lab.lab.ip(lab.host, "-6", "addr", "show", "dev", "lo").output
                gone = !lo.contains("\(v6)/128")
            }
            #expect(gone, "\(v6) still on lo after the reload")
            #expect(try await lab.ndisc6(v6).isEmpty, "\(v6) still answered after the reload")
            #expect(try await lab.arping(v4, count: 2, timeoutSeconds: 3).count == 2, "\(v4) still answered")
            let rules = try await lab.lab.ip(lab.host, "-6", "rule", "show").output
            #expect(!rules.contains("from \(v6)"), "ip -6 rule: \(rules)")
        }
    }
}

/// tcpdump for ICMPv6 on the client; reads back the Neighbor Advertisements it saw.
struct NDPCapture {
    let process: LabProcess
    let path: String

    static func start(_ lab: HostLab, directory: String, name: String) async throws -> NDPCapture {
        let wire = try await WireCapture.start(
            namespace: lab.client, device: lab.clientDevice, filter: "icmp6", directory: directory, name: name, settle: .milliseconds(200))
        return NDPCapture(process: wire.process, path: wire.path)
    }

    /// Frames captured so far (the file is flushed per packet: `-U`).
    func count() async throws -> Int {
        (try? CaptureFile(path: path).frames.count) ?? 0
    }

    /// The advertisements among the frames after the first `mark`.
    func advertisements(since mark: Int) async throws -> [NDPFrame] {
        let frames = try CaptureFile(path: path).frames.dropFirst(mark)
        return frames.compactMap { bytes in
            guard case .ndp(let frame) = NDPParser.parse(bytes), case .advertisement = frame.message else { return nil }
            return frame
        }
    }

    /// Every advertisement with its capture time (wall clock, nanoseconds).
    func timedAdvertisements() async throws -> [(at: Int64, frame: NDPFrame)] {
        try await Task.sleep(for: .milliseconds(200))
        let file = try CaptureFile(path: path)
        return zip(file.frames, file.timestamps).compactMap { bytes, at in
            guard case .ndp(let frame) = NDPParser.parse(bytes), case .advertisement = frame.message else { return nil }
            return (at, frame)
        }
    }

    func stop() async {
        if process.isRunning { await process.stop() }
    }
}
