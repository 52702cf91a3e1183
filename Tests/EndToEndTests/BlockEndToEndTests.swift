import Foundation
import ProxyARPCore
import ProxyARPStateMachines
import ProxyARPTestSupport
import Testing

@Suite("End to end: VIPs in /26 blocks", .serialized, .enabled(if: endToEndEnabled))
struct BlockEndToEndTests {
    /// `ip rule` lines of the host that mention the block.
    private func blockRules(_ daemon: DaemonLab) async throws -> [Substring] {
        try await daemon.lab.lab.ip(daemon.lab.host, "-4", "rule", "show").output
            .split(separator: "\n").filter { ($0.contains("198.18.0.1") || $0.contains("198.18.0.0/")) && !$0.contains("goto") }
    }

    @Test("64 VIPs in one /26: one agent, one rule, one local route, ping works; carrier loss moves the block whole; SIGTERM removes all")
    func blockOfVIPs() async throws {
        try await DaemonLab.with("e2eb", vips: ["198.18.0.128/26"], extraConfig: "selection:\n  block_prefix_length: 26\n") { daemon in
            let probes = ["198.18.0.128", "198.18.0.150", "198.18.0.191"].map { IPv4Address($0)! }
            let answers = try await daemon.waitForAnswers(probes)
            let macs = Set(answers.values.flatMap { $0 })
            #expect(answers.count == 3)
            #expect(macs.count == 1, "one agent for the whole block: \(answers)")
            let oldAgent = try #require(macs.first.flatMap { daemon.lab.adapter(owning: $0) })

            // Wait (bounded) until all 64 are active, then look at the kernel.
            for _ in 0..<100 where daemon.log.components(separatedBy: "VIP active").count - 1 < 64 {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(daemon.log.components(separatedBy: "VIP active").count - 1 == 64)
            var rules = try await blockRules(daemon)
            #expect(rules.count == 1 && rules.first?.contains("from 198.18.0.128/26 lookup") == true, "\(rules)")
            let local = try await daemon.lab.lab.ip(daemon.lab.host, "-4", "route", "show", "table", "local", "proto", "154").output
            #expect(local.contains("local 198.18.0.128/26 dev lo"), "\(local)")
            #expect(try await daemon.loopbackVIPs().isEmpty, "no /32 addresses on lo in block mode")
            let ping = try await daemon.lab.ping(probes[1], count: 5, interval: "0.2", deadlineSeconds: 5)
            #expect(ping.received >= 4, "ping \(probes[1]): \(ping)")

            // Carrier loss: the whole block moves to the other adapter of the subnet.
            try await Task.sleep(for: .seconds(3))  // the announcement rounds end
            try await daemon.lab.cutCarrier(oldAgent.name)
            var moved: [IPv4Address: [MACAddress]] = [:]
            for _ in 0..<50 {
                moved = [:]
                for probe in probes { moved[probe] = try await daemon.lab.arping(probe, count: 1, timeoutSeconds: 1) }
                if moved.values.allSatisfy({ !$0.isEmpty && !$0.contains(oldAgent.mac) }) { break }
            }
            let newMACs = Set(moved.values.flatMap { $0 })
            #expect(newMACs.count == 1 && !newMACs.contains(oldAgent.mac), "after carrier loss: \(moved)")
            let newAgent = try #require(newMACs.first.flatMap { daemon.lab.adapter(owning: $0) })
            #expect(newAgent.address.subnet.contains(probes[0]))
            for _ in 0..<50 {
                rules = try await blockRules(daemon)
                if rules.count == 1 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(rules.count == 1, "one rule again once all 64 moved: \(rules)")
            let route = try await daemon.lab.lab.ip(daemon.lab.host, "-4", "route", "get", "198.18.0.1", "from", "198.18.0.150").output
            #expect(route.contains("dev \(newAgent.name)"), "\(route)")
            let after = try await daemon.lab.ping(probes[1], count: 5, interval: "0.2", deadlineSeconds: 5)
            #expect(after.received >= 4, "ping after the move: \(after)")

            // The run's trace replays through fresh machines, block grouping included.
            let records = try await daemon.dumpTrace()
            #expect(records.contains { if case .selection(.blockPrefixLength(26)) = $0.event { true } else { false } })
            let replay = TraceReplay.replay(records)
            #expect(replay.replayed > 64)
            #expect(replay.divergences.isEmpty, "\(replay.divergences.prefix(5))")

            // SIGTERM: the daemon withdraws the VIPs and removes its rules and routes.
            #expect(await daemon.daemon.stop(timeout: .seconds(20)) == 0)
            #expect(try await blockRules(daemon).isEmpty)
            let left = try await daemon.lab.lab.ip(daemon.lab.host, "-4", "route", "show", "table", "local", "proto", "154").output
            #expect(left.isEmpty, "\(left)")
        }
    }
}
