import Foundation
import Glibc
import ProxyARPCore
import ProxyARPTestSupport
import Testing

/// Issue 11, item 3: a daemon killed with SIGKILL and started again reconciles what the
/// killed one left (rules, local addresses), keeps VIPs on their agents when it can, and
/// its SIGTERM leaves nothing of proxyarpd's.
@Suite("End to end: restart after kill -9", .serialized, .enabled(if: endToEndEnabled))
struct RestartEndToEndTests {
    static let vips = (101...110).map { IPv4Address(198, 18, 0, UInt8($0)) }

    @Test("kill -9, config changed (preference moves VIPs, one removed), restart: one rule per VIP into its agent's table, removed VIP not local; SIGTERM leaves nothing")
    func restartWithChangedConfiguration() async throws {
        try await DaemonLab.with("e2er", vips: ["198.18.0.101-198.18.0.110"]) { first in
            try await Self.waitForActive(first, count: 10)
            let before = try await Self.ourRules(first)
            #expect(before.count == 15, "10 VIP rules, end, skip, guard, anchor, exit: \(before)")
            let onH0 = try await Self.vipsLeaving(by: "h0", first)
            #expect(!onH0.isEmpty, "load spreads the VIPs over h0 and h1")

            try await Self.kill(first)
            let yaml = first.lab.configurationYAML(vips: ["198.18.0.101-198.18.0.109"], directory: first.directory)
                .replacingOccurrences(of: "  - range: 198.18.0.101-198.18.0.109\n", with: "  - range: 198.18.0.101-198.18.0.109\n    preferred: [h1]\n")
            let second = try first.restart(configuration: yaml, logName: "restarted.log")
            do {
                let kept = Array(Self.vips.prefix(9))
                try await Self.waitForActive(second, count: 9)
                let h1 = try #require(first.lab.adapter("h1"))
                let answers = try await second.waitForAnswers(kept)
                #expect(answers.values.allSatisfy { $0 == [h1.mac] }, "every VIP answered by h1 only: \(answers)")
                let table = try await Self.table(of: "h1", first)
                for vip in kept {
                    let lookups = try await Self.lookups(from: vip, first)
                    #expect(lookups.count == 1 && lookups.first?.contains("lookup \(table)") == true, "\(vip): \(lookups)")
                    let route = try await first.lab.lab.ip(first.lab.host, "-4", "route", "get", "198.18.0.1", "from", "\(vip)").output
                    #expect(route.contains("dev h1"), "\(vip) leaves by its agent h1: \(route)")
                }
                #expect(try await Self.lookups(from: Self.vips[9], first).isEmpty, "no rule for the removed VIP")
                #expect(!(try await first.loopbackVIPs().contains(Self.vips[9])), "the removed VIP is not local")
                let after = try await Self.ourRules(first)
                #expect(after.count == 14, "what a clean start with 9 VIPs holds: \(after)")

                #expect(await second.daemon.stop(timeout: .seconds(20)) == 0)
                #expect(try await Self.ourRules(first).isEmpty)
                let routes = try await first.lab.lab.ip(first.lab.host, "-4", "route", "show", "table", "all", "proto", "154").output
                #expect(routes.isEmpty, "\(routes)")
                let local = try await first.loopbackVIPs()
                #expect(local.isDisjoint(with: Self.vips), "\(local)")
            } catch {
                Issue.record("restarted daemon log:\n\(second.log.suffix(6000))")
                await second.daemon.stop()
                throw error
            }
            if second.daemon.isRunning { await second.daemon.stop() }
        }
    }

    @Test("kill -9 and restart with the same configuration: every VIP keeps its agent (same MAC), a 10 ms ping loses nothing")
    func restartKeepsAgents() async throws {
        try await DaemonLab.with("e2es", vips: ["198.18.0.101-198.18.0.110"]) { first in
            try await Self.waitForActive(first, count: 10)
            let before = try await first.waitForAnswers(Self.vips)
            #expect(before.count == 10 && before.values.allSatisfy { $0.count == 1 }, "\(before)")
            let yaml = try String(contentsOfFile: first.configPath, encoding: .utf8)

            async let ping = first.lab.ping(Self.vips[0], count: 500, interval: "0.01", deadlineSeconds: 30)
            try await Task.sleep(for: .seconds(1))
            try await Self.kill(first)
            try await Task.sleep(for: .milliseconds(300))
            let restartedAt = ContinuousClock.now
            let second = try first.restart(configuration: yaml, logName: "restarted.log")
            do {
                for _ in 0..<500 where second.log.components(separatedBy: "VIP active").count - 1 < Self.vips.count {
                    try await Task.sleep(for: .milliseconds(20))
                }
                let activeAfter = ContinuousClock.now - restartedAt
                var after: [IPv4Address: [MACAddress]] = [:]
                for _ in 0..<40 where after.count < Self.vips.count {
                    for vip in Self.vips where after[vip] == nil {
                        let macs = try await first.lab.arping(vip, count: 1, timeoutSeconds: 1)
                        if !macs.isEmpty { after[vip] = macs }
                    }
                }
                let answeredAfter = ContinuousClock.now - restartedAt
                #expect(after == before, "same agent, same MAC for every VIP: before \(before), after \(after)")
                let counts = try await ping
                print("restart after kill -9: ping \(counts.received)/\(counts.sent) received at 10 ms; all VIPs active \(activeAfter) and answering arping \(answeredAfter) after the restart")
                #expect(counts.sent >= 490 && counts.received == counts.sent, "10 ms ping across kill -9 + restart: \(counts)")
                try await Self.waitForActive(second, count: 10)
                #expect(try await Self.ourRules(first).count == 15, "no second rule for any VIP")
                #expect(second.log.contains("\"adoptedVIPs\": 10") || second.log.contains("adoptedVIPs=10"),
                        "all 10 adopted: \(second.log.split(separator: "\n").filter { $0.contains("reconciled") })")
                #expect(await second.daemon.stop(timeout: .seconds(20)) == 0)
                #expect(try await Self.ourRules(first).isEmpty)
            } catch {
                Issue.record("restarted daemon log:\n\(second.log.suffix(6000))")
                await second.daemon.stop()
                throw error
            }
            if second.daemon.isRunning { await second.daemon.stop() }
        }
    }

    // MARK: Helpers

    /// SIGKILL to the daemon this test started (by its PID), then waits (bounded) for its exit.
    static func kill(_ daemon: DaemonLab) async throws {
        let pid = try #require(daemon.daemon.processIdentifier)
        daemon.daemon.send(SIGKILL)
        // Dead once its state is Z (a zombie until the launcher reaps it) or it is gone.
        func dead() -> Bool {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
            return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
        }
        for _ in 0..<100 where !dead() { try await Task.sleep(for: .milliseconds(20)) }
        #expect(dead())
        await daemon.daemon.stop(timeout: .seconds(1))  // the launcher reaps it
    }

    /// Waits (bounded: 15 s) until the daemon logged `count` activations.
    static func waitForActive(_ daemon: DaemonLab, count: Int) async throws {
        for _ in 0..<150 where daemon.log.components(separatedBy: "VIP active").count - 1 < count {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(daemon.log.components(separatedBy: "VIP active").count - 1 >= count)
    }

    /// `ip rule` lines at proxyarpd's priorities (990 ... 32700).
    static func ourRules(_ daemon: DaemonLab) async throws -> [Substring] {
        try await daemon.lab.lab.ip(daemon.lab.host, "-4", "rule", "show").output.split(separator: "\n").filter { line in
            guard let priority = UInt32(line.prefix { $0 != ":" }) else { return false }
            return (990...32_700).contains(priority)
        }
    }

    /// `ip rule` lines `from VIP lookup ...`.
    static func lookups(from vip: IPv4Address, _ daemon: DaemonLab) async throws -> [Substring] {
        try await ourRules(daemon).filter { $0.contains("from \(vip) ") && $0.contains("lookup") }
    }

    /// The VIPs whose replies to 198.18.0.1 leave by `adapter`.
    static func vipsLeaving(by adapter: String, _ daemon: DaemonLab) async throws -> [IPv4Address] {
        var result: [IPv4Address] = []
        for vip in vips {
            let route = try await daemon.lab.lab.ip(daemon.lab.host, "-4", "route", "get", "198.18.0.1", "from", "\(vip)").output
            if route.contains("dev \(adapter)") { result.append(vip) }
        }
        return result
    }

    /// `T(adapter)`: 20000 + its ifindex.
    static func table(of adapter: String, _ daemon: DaemonLab) async throws -> UInt32 {
        let line = try await daemon.lab.lab.ip(daemon.lab.host, "-o", "link", "show", "dev", adapter).output
        return 20_000 + UInt32(line.prefix { $0 != ":" })!
    }
}

extension DaemonLab {
    /// Starts another daemon in this lab with `configuration` written over the config file;
    /// the caller stops it (by its PID, through ``LabProcess``).
    func restart(configuration: String, logName: String) throws -> DaemonLab {
        try configuration.write(toFile: configPath, atomically: true, encoding: .utf8)
        let process = try LabProcess(
            binary: DaemonLab.binary, namespace: lab.host,
            arguments: ["run", "--config", configPath, "--log-level", "debug"], logPath: "\(directory)/\(logName)")
        return DaemonLab(lab: lab, daemon: process, directory: directory, vips: vips, startupCapture: nil)
    }
}
