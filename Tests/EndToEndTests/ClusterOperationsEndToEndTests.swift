import Foundation
import ProxyARPCore
import ProxyARPTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Cluster mode's operations against real daemons and a real 3-member etcd: readiness,
/// reload, the ownership trace, status, and a few thousand VIPs in blocks.
@Suite("End to end: cluster operations and scale", .serialized, .enabled(if: clusterEnabled))
struct ClusterOperationsEndToEndTests {
    static let vips = (100..<112).map { "198.18.0.\($0)" }

    /// `proxyarpd status --json` of host `index`, as JSON.
    static func statusJSON(_ lab: ClusterLab, _ index: Int) async throws -> [String: Any] {
        let result = try await Command.run(DaemonLab.binary, ["status", "--socket", lab.socketPath(host: index), "--json"], check: false)
        let line = try #require(result.output.split(separator: "\n").first { $0.hasPrefix("{") }, "\(result.output)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        return try #require(object["status"] as? [String: Any])
    }

    @Test("READY=1 once the lease is held and the first claims are settled; reload counts the pool, refuses a cluster change; the trace replays")
    func readinessReloadTrace() async throws {
        let listener = try NotifyListener()
        defer { listener.close() }
        let lab = try await ClusterLab.build(hosts: 3, tag: "co")
        var daemons: [LabProcess] = []
        do {
            // host0 alone (no host started later preempts it): READY=1 must wait for its 12 claims.
            daemons.append(try lab.startDaemon(0, binary: DaemonLab.binary, vips: Self.vips, environment: ["NOTIFY_SOCKET": listener.path]))
            let ready = try await listener.waitFor("READY=1", timeout: .seconds(30))

            // At READY=1 the host held its lease and had settled every claim: what it owns
            // is what READY counted, and each of those VIPs answers with its MAC at once.
            let status = try await Self.statusJSON(lab, 0)
            let cluster = try #require(status["cluster"] as? [String: Any])
            #expect(cluster["lease"] as? String != nil)
            let units = try #require(cluster["units"] as? [[String: Any]])
            #expect(units.count == Self.vips.count)
            #expect(units.allSatisfy { !["waiting", "claiming"].contains($0["state"] as? String ?? "") }, "\(units)")
            let owned = units.filter { $0["state"] as? String == "owned" }.compactMap { $0["unit"] as? String }
            #expect(owned.count == Self.vips.count, "host0 alone owns every unit: \(units)")
            #expect(ready.contains("STATUS=\(owned.count) of \(owned.count) VIPs active"), "\(ready), owned \(owned)")
            for vip in owned {
                let macs = try await lab.arping(vip, count: 1, timeoutSeconds: 1)
                #expect(macs.count == 1 && macs.allSatisfy { ClusterLab.host(owning: $0) == 0 }, "\(vip): \(macs)")
            }
            #expect((cluster["leaseRemainingMilliseconds"] as? Int).map { (0...1000).contains($0) } == true, "\(cluster)")

            // Reload with one VIP more: the summary counts the pool (1 added), not zero.
            let config = "\(lab.directory)/h0.yaml"
            try lab.configurationYAML(host: 0, vips: Self.vips + ["198.18.0.112"]).write(toFile: config, atomically: true, encoding: .utf8)
            let reload = try await Command.run(DaemonLab.binary, ["reload", "--socket", lab.socketPath(host: 0)], check: false)
            #expect(reload.output.contains("reloaded: 1 added, 0 removed, 0 changed"), "\(reload.output)")

            // A changed cluster section is refused and the running one kept.
            try lab.configurationYAML(host: 0, vips: Self.vips, leaseTTL: "2s").write(toFile: config, atomically: true, encoding: .utf8)
            let refused = try await Command.run(DaemonLab.binary, ["reload", "--socket", lab.socketPath(host: 0)], check: false)
            #expect(refused.exitCode != 0)
            #expect(refused.error.contains("cluster.lease_ttl") && refused.error.contains("needs a restart"), "\(refused.error)")
            let after = try #require(try await Self.statusJSON(lab, 0)["cluster"] as? [String: Any])
            #expect(after["leaseTTLMilliseconds"] as? Int == 1000)
            #expect((after["units"] as? [[String: Any]])?.count == Self.vips.count + 1, "the accepted reload's VIP is kept")
            #expect(daemons[0].isRunning)

            // The trace holds every unit's machine; the dump replays; the timeline has unit lanes.
            let dump = "\(lab.directory)/trace0.jsonl"
            let trace = try await Command.run(DaemonLab.binary, ["trace", "--socket", lab.socketPath(host: 0)])
            try trace.output.write(toFile: dump, atomically: true, encoding: .utf8)
            // A sample for the fuzz seed corpus (Fuzz/Seeds/trace-cluster.jsonl is one).
            try? trace.output.write(toFile: NSTemporaryDirectory() + "proxyarpd-cluster-trace-sample.jsonl", atomically: true, encoding: .utf8)
            #expect(trace.output.contains("\"ownershipCreated\""))
            #expect(trace.output.contains("\"claimSucceeded\"") || trace.output.contains("\"observed\""))
            let replay = try await Command.run(DaemonLab.binary, ["trace", "replay", dump], check: false)
            #expect(replay.exitCode == 0 && replay.output.contains(" 0 divergences"), "\(replay.output)")
            let svg = "\(lab.directory)/timeline0.svg"
            let timeline = try await Command.run(DaemonLab.binary, ["trace", "--timeline", svg, "--from-file", dump])
            #expect(timeline.output.contains("\(Self.vips.count + 1) unit lanes (owner host)"), "\(timeline.output)")
            let show = try await Command.run(DaemonLab.binary, ["trace", "show", dump])
            #expect(show.output.contains("[claimed: "), "\(show.output.suffix(2000))")
        } catch {
            await lab.destroy(daemons: daemons)
            throw error
        }
        await lab.destroy(daemons: daemons)
    }

    @Test("4,096 VIPs in /26 blocks over three hosts: all active on one host each; one keepalive per host per interval; applies coalesced")
    func scale() async throws {
        let lab = try await ClusterLab.build(hosts: 3, tag: "cs")
        var daemons: [LabProcess] = []
        let count = 4096
        do {
            let entries = lab.poolEntries(vipCount: count)
            for index in 0..<3 {
                daemons.append(
                    // Rebalancing after 1 s: when the daemons come up a second apart (load), the first
                    // one claims every unit; the others get their hashed share once they have been up 1 s.
                    try lab.startDaemon(
                        index, binary: DaemonLab.binary, vips: entries, extraCluster: "  rebalance_after: 1s", metricsPort: 9469,
                        extra: "selection:\n  block_prefix_length: 26\n"))
            }
            var counts: [ClusterHostCounts?] = [nil, nil, nil]
            for _ in 0..<80 {
                try await Task.sleep(for: .milliseconds(500))
                for index in 0..<3 { counts[index] = try await lab.activeVIPs(host: index, binary: DaemonLab.binary) }
                if counts.reduce(0, { $0 + ($1?.active ?? 0) }) == count, counts.allSatisfy({ ($0?.vips ?? 0) > 0 }) { break }
            }
            #expect(counts.reduce(0) { $0 + ($1?.active ?? 0) } == count, "\(counts)")
            #expect(counts.reduce(0) { $0 + ($1?.vips ?? 0) } == count, "each VIP held by exactly one host: \(counts)")
            #expect(counts.allSatisfy { ($0?.vips ?? 0) > 0 }, "units spread over the hosts: \(counts)")
            for index in 0..<3 where counts[index] == nil {
                let log = (try? String(contentsOfFile: "\(lab.directory)/h\(index).log", encoding: .utf8)) ?? ""
                Issue.record("host\(index) did not answer status; running: \(daemons[index].isRunning); log tail:\n\(log.suffix(4000))")
            }

            // Let the handovers end first (the spread settles; none logged for 2 s, at most 30 s).
            func handovers() -> Int {
                (0..<3).map { index in
                    ((try? String(contentsOfFile: "\(lab.directory)/h\(index).log", encoding: .utf8)) ?? "")
                        .components(separatedBy: "handing over to its natural owner").count - 1
                }.reduce(0, +)
            }
            var quietSince = ContinuousClock.now
            var seen = handovers()
            let waitStart = ContinuousClock.now
            while ContinuousClock.now - quietSince < .seconds(2), ContinuousClock.now - waitStart < .seconds(30) {
                try await Task.sleep(for: .milliseconds(250))
                let now = handovers()
                if now != seen { (seen, quietSince) = (now, ContinuousClock.now) }
            }

            // The hosts' own count of keepalive calls (all results), summed over the hosts.
            func keepaliveCalls() async throws -> (calls: Double, at: ContinuousClock.Instant) {
                var total = 0.0
                for index in 0..<3 {
                    let page = try await lab.etcd.lab.exec(lab.hosts[index], "curl", ["-s", "-m", "3", "http://127.0.0.1:9469/metrics"], check: false).output
                    total += ClusterEndToEndTests.metric(page, "proxyarpd_cluster_keepalives_total")
                }
                return (total, ContinuousClock.now)
            }
            // etcd's leader counts every lease renewal: about one per host per TTL/4 (250 ms), so
            // 3 hosts × 12 in 3 s; per unit it would be 64 × 12 = 768. The count covers the time
            // between the two reads of the leader's metric, which is more than the 3 s slept:
            // each read curls every member in turn (0.1–0.5 s apiece under load). Bound it by the
            // time from the first read's start to the second read's end (49–51 renewals against
            // a flat limit of 45 were that, not extra keepalives: the hosts' own calls were
            // 3.8 per host per second).
            let callsBefore = try await keepaliveCalls()
            let readsStart = ContinuousClock.now
            let before = try await lab.etcd.metricSum("etcd_debugging_lease_renewed_total")
            try await Task.sleep(for: .seconds(3))
            let renewed = try await lab.etcd.metricSum("etcd_debugging_lease_renewed_total") - before
            let readsWindow = Self.seconds(ContinuousClock.now - readsStart)
            let callsAfter = try await keepaliveCalls()
            let calls = callsAfter.calls - callsBefore.calls
            let callsWindow = Self.seconds(callsAfter.at - callsBefore.at)
            let limit = 3 * (Int(readsWindow / 0.25) + 2)
            ClusterEndToEndTests.report(
                "scale",
                "etcd renewed \(Int(renewed)) leases within \(String(format: "%.2f", readsWindow)) s (limit \(limit)); the hosts made \(Int(calls)) keepalive calls in \(String(format: "%.2f", callsWindow)) s (\(String(format: "%.2f", calls / callsWindow / 3)) per host per s)")
            #expect(renewed >= 3 && Int(renewed) <= limit, "keepalives renewed within \(readsWindow) s: \(renewed), limit \(limit)")

            // 64 units claimed, far fewer engine applies than claims.
            func logCount(_ index: Int, _ message: String) -> Int {
                let log = (try? String(contentsOfFile: "\(lab.directory)/h\(index).log", encoding: .utf8)) ?? ""
                return log.split(separator: "\n").count { $0.hasSuffix("] \(message)") }
            }
            let claims = (0..<3).map { logCount($0, "claimed") }
            let applies = (0..<3).map { logCount($0, "owned VIPs applied") }
            #expect(claims.reduce(0, +) >= 64, "claims \(claims)")
            #expect(applies.reduce(0, +) < claims.reduce(0, +), "applies \(applies), claims \(claims)")
        } catch {
            await lab.destroy(daemons: daemons)
            throw error
        }
        await lab.destroy(daemons: daemons)
    }

    /// `duration` in seconds.
    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
