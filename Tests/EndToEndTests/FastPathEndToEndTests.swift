import Foundation
import ProxyARPControl
import ProxyARPCore
import ProxyARPIO
import ProxyARPTestSupport
import Testing

/// The daemon in both answering modes (`io.fast_path` pcap and xdp) in the standard lab,
/// whose bridge-side veth peers carry an XDP_PASS program (see ``DaemonLab``).
@Suite("End to end: pcap and XDP fast paths", .serialized, .enabled(if: endToEndEnabled))
struct FastPathEndToEndTests {
    static let vips = ["198.18.0.100", "198.18.0.101", "198.18.1.100"]
    static let adapters = ["h0", "h1", "h2"]

    @Test("one reply per VIP from its agent, none for other addresses; XDP attached on every adapter only in xdp mode, counted in status", arguments: ["pcap", "xdp"])
    func answers(mode: String) async throws {
        try await DaemonLab.with("fpa\(mode.prefix(1))", vips: Self.vips, fastPath: mode) { daemon in
            try await RestartEndToEndTests.waitForActive(daemon, count: Self.vips.count)
            let answers = try await daemon.waitForAnswers(daemon.vips)
            for vip in daemon.vips {
                let macs = try await daemon.lab.arping(vip, count: 3, timeoutSeconds: 4)
                #expect(macs.count == 3 && Set(macs).count == 1, "\(vip): three requests, three replies from one MAC: \(macs)")
                let agent = try #require(answers[vip]?.first.flatMap { daemon.lab.adapter(owning: $0) })
                #expect(agent.address.subnet.contains(vip) || vip == IPv4Address("198.18.1.100"), "\(vip) answered by \(agent.name)")
            }
            #expect(try await daemon.lab.arping(IPv4Address("198.18.0.77")!, count: 1, timeoutSeconds: 1).isEmpty)
            for adapter in Self.adapters {
                let programs = try await daemon.xdpPrograms(on: adapter)
                if mode == "xdp" {
                    #expect(programs.count == 1 && programs[0].contains(XDPObject.programName), "\(adapter): \(programs)")
                } else {
                    #expect(programs.isEmpty, "\(adapter): \(programs)")
                }
            }
            #expect(daemon.log.contains(mode == "xdp" ? "answering in xdp" : "answering in pcap"))
            // Status: every reply (3 VIPs x at least 4 arpings) counted; in xdp mode all by XDP.
            let status = try #require(try await ConflictEndToEndTests.status(daemon))
            let replies = status.io.reduce(UInt64(0)) { $0 + $1.repliesSent }
            let fastPath = status.io.reduce(UInt64(0)) { $0 + ($1.fastPathReplies ?? 0) }
            #expect(replies >= 12, "\(status.io)")
            #expect(fastPath == (mode == "xdp" ? replies : 0), "XDP replies \(fastPath) of \(replies)")
            #expect(status.io.allSatisfy { ($0.fastPathReplies == nil) == (mode == "pcap") })
            // SIGTERM: nothing stays attached.
            #expect(await daemon.daemon.stop(timeout: .seconds(20)) == 0)
            for adapter in Self.adapters {
                #expect(try await daemon.xdpPrograms(on: adapter).isEmpty, "\(adapter) after SIGTERM")
            }
        }
    }

    @Test("auto leaves veth adapters to pcap (an XDP_TX reply on a veth is lost unless its peer runs XDP): nothing attached, reason logged, every request answered")
    func autoOnVeth() async throws {
        try await DaemonLab.with("fpav", vips: Self.vips, fastPath: "auto") { daemon in
            try await RestartEndToEndTests.waitForActive(daemon, count: Self.vips.count)
            for vip in daemon.vips {
                let macs = try await daemon.lab.arping(vip, count: 3, timeoutSeconds: 4)
                #expect(macs.count == 3 && Set(macs).count == 1, "\(vip): three requests, three replies from one MAC: \(macs)")
            }
            for adapter in Self.adapters {
                #expect(try await daemon.xdpPrograms(on: adapter).isEmpty, "\(adapter)")
            }
            #expect(daemon.log.contains("answering in pcap: xdp did not attach"))
            #expect(daemon.log.contains("a veth: XDP_TX replies reach its peer only if the peer runs an XDP program"))
            #expect(!daemon.log.contains("answering in xdp"))
        }
    }

    @Test("carrier loss on the agent: a 10 ms ping loses (next to) nothing, in both modes", arguments: ["pcap", "xdp"])
    func carrierLoss(mode: String) async throws {
        try await DaemonLab.with("fpc\(mode.prefix(1))", vips: Self.vips, fastPath: mode) { daemon in
            let vip = IPv4Address("198.18.0.100")!
            let answers = try await daemon.waitForAnswers([vip])
            let oldMAC = try #require(answers[vip]?.first)
            let oldAgent = try #require(daemon.lab.adapter(owning: oldMAC))
            try await Task.sleep(for: .seconds(3))  // the announcement rounds are over
            let pinger = Task { try await daemon.lab.ping(vip, count: 300, interval: "0.01", deadlineSeconds: 10) }
            try await Task.sleep(for: .seconds(1))
            try await daemon.lab.cutCarrier(oldAgent.name)
            let pings = try await pinger.value
            let after = try await daemon.lab.arping(vip, count: 2, timeoutSeconds: 3)
            print("[e2e] fast path \(mode): carrier loss on \(oldAgent.name), 10 ms ping lost \(pings.sent - pings.received)/\(pings.sent); answered after by \(after)")
            // 0 lost is the usual outcome in both modes; at a load average of 16-19 on this 2-core
            // machine each mode lost 1 of 301 once (the same in pcap and XDP: not the fast path).
            #expect(pings.sent >= 250 && pings.sent - pings.received <= 2, "\(mode): \(pings)")
            #expect(after.count == 2 && !after.contains(oldMAC), "\(mode): the new agent answers alone: \(after)")
        }
    }

    @Test("SIGHUP adds and removes a VIP in XDP: the added one is answered, the removed one not")
    func reload() async throws {
        try await DaemonLab.with("fphx", vips: ["198.18.0.100", "198.18.0.101"], fastPath: "xdp") { daemon in
            try await RestartEndToEndTests.waitForActive(daemon, count: 2)
            let yaml = try String(contentsOfFile: daemon.configPath, encoding: .utf8)
            try yaml.replacingOccurrences(of: "address: 198.18.0.101", with: "address: 198.18.0.102")
                .write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
            daemon.daemon.send(SIGHUP)
            let added = try await daemon.waitForAnswers([IPv4Address("198.18.0.102")!])
            #expect(added.count == 1)
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await daemon.lab.arping(IPv4Address("198.18.0.101")!, count: 2, timeoutSeconds: 2).isEmpty)
            #expect(try await daemon.lab.arping(IPv4Address("198.18.0.100")!, count: 2, timeoutSeconds: 3).count == 2)
        }
    }

    @Test("kill -9 then restart: exactly one program per adapter; a program left attached the old way is replaced")
    func killAndRestart() async throws {
        try await DaemonLab.with("fpkx", vips: Self.vips, fastPath: "xdp") { first in
            try await RestartEndToEndTests.waitForActive(first, count: Self.vips.count)
            try await RestartEndToEndTests.kill(first)
            // A leftover attached through netlink (as an older build or a hand would leave it).
            try await first.lab.lab.ip(first.lab.host, "link", "set", "dev", "h2", "xdpgeneric", "object",
                                       "\(first.directory)/proxyarp.bpf.o", "program", XDPObject.programName)
            let yaml = try String(contentsOfFile: first.configPath, encoding: .utf8)
            let second = try first.restart(configuration: yaml, logName: "restarted.log")
            do {
                try await RestartEndToEndTests.waitForActive(second, count: Self.vips.count)
                for adapter in Self.adapters {
                    let programs = try await first.xdpPrograms(on: adapter)
                    #expect(programs.count == 1 && programs[0].contains(XDPObject.programName), "\(adapter): \(programs)")
                }
                #expect(second.log.contains("removed a program an earlier instance left"))
                let answers = try await second.waitForAnswers(first.vips)
                #expect(answers.count == Self.vips.count)
                #expect(await second.daemon.stop(timeout: .seconds(20)) == 0)
                for adapter in Self.adapters { #expect(try await first.xdpPrograms(on: adapter).isEmpty) }
            } catch {
                Issue.record("restarted daemon log:\n\(second.log.suffix(4000))")
                await second.daemon.stop()
                throw error
            }
        }
    }
}
