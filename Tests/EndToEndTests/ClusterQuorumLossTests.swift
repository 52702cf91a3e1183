import Foundation
import ProxyARPCore
import ProxyARPTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// etcd loses its quorum under two daemons, one with `on_quorum_loss: fence`, one with `hold`.
extension ClusterEndToEndTests {
    @Test("quorum loss (2 of 3 members killed): `fence` stops answering by its deadline and says so; `hold` keeps answering")
    func quorumLossFenceAndHold() async throws {
        try await Self.withLab("quorum", hosts: 2) { lab, daemons in
            let (fenceVIP, holdVIP) = ("198.18.0.100", "198.18.0.101")
            try daemons.start(0, vips: [fenceVIP], extraCluster: "  on_quorum_loss: fence", metricsPort: 9469)
            try daemons.start(1, vips: [holdVIP], extraCluster: "  on_quorum_loss: hold", metricsPort: 9469)
            let owners = try await Self.settledOwners(lab, vips: [fenceVIP, holdVIP])
            try #require(owners == [fenceVIP: 0, holdVIP: 1], "owners: \(owners)")
            let probe = try await ClusterProbe.start(lab, daemons: daemons, vips: [fenceVIP, holdVIP], name: "quorum")
            let start = Self.wallClock

            // Kill the leader and one follower: the last member has no quorum.
            let leader = try #require(try await lab.etcd.leaderIndex())
            let killed = [leader, (leader + 1) % 3]
            let cut = Self.wallClock
            for member in killed { await lab.etcd.killMember(member) }
            try await Task.sleep(for: .seconds(3))
            let fenceStatus = try await Self.status(lab, host: 0)
            let holdStatus = try await Self.status(lab, host: 1)
            let fenceMetrics = try await lab.etcd.lab.exec(lab.hosts[0], "curl", ["-s", "-m", "3", "http://127.0.0.1:9469/metrics"], check: false).output
            let holdMetrics = try await lab.etcd.lab.exec(lab.hosts[1], "curl", ["-s", "-m", "3", "http://127.0.0.1:9469/metrics"], check: false).output
            let lossEnd = Self.wallClock

            // Quorum back: the fenced host's lease outlived the loss (a new leader renews every lease).
            for member in killed { try lab.etcd.startMember(member) }
            try await lab.etcd.waitHealthy()
            let healed = Self.wallClock
            let after = try await Self.settledOwners(lab, vips: [fenceVIP, holdVIP], seconds: 10)
            let end = Self.wallClock
            let log = await probe.stop()

            // fence: answers stop before the lease could end (last acknowledged keepalive ≤ the cut, TTL 1 s).
            let fencedLast = log.answers(fenceVIP).filter { $0.time >= start && $0.time <= lossEnd }.last?.time
            let stoppedAfter = fencedLast.map { ($0 - cut) * 1000 }
            #expect(fencedLast.map { $0 < cut + 1.0 } ?? true, "the fence host answered \(stoppedAfter ?? 0) ms after the cut")
            #expect(log.answers(fenceVIP).filter { $0.time > cut + 1.0 && $0.time < lossEnd }.isEmpty)
            #expect(log.unanswered(fenceVIP, from: cut + 1.0, to: lossEnd - 0.5) > 0, "no probe in the fenced window")
            let fenceCluster = fenceStatus?["cluster"] as? [String: Any]
            #expect(fenceCluster?["fenced"] as? Bool == true, "status of the fence host: \(String(describing: fenceStatus))")
            #expect(Self.metric(fenceMetrics, "proxyarpd_cluster_fence_events_total") >= 1, "\(fenceMetrics.suffix(1500))")
            #expect(daemons.log(0).contains("fenced: no keepalive acknowledged"), "\(daemons.log(0).suffix(2000))")
            // ...and answers again once etcd has a quorum.
            #expect(after[fenceVIP] == 0, "after healing: \(after)")

            // hold: every probe answered during the loss, status not fenced, the log says it holds.
            let holdGap = log.maxGap(holdVIP, from: cut, to: lossEnd)
            let holdUnanswered = log.unanswered(holdVIP, from: cut, to: lossEnd)
            #expect(holdUnanswered == 0, "hold host: \(holdUnanswered) probes unanswered, max gap \(Int(holdGap)) ms")
            let holdCluster = holdStatus?["cluster"] as? [String: Any]
            #expect(holdCluster?["fenced"] as? Bool == false, "status of the hold host: \(String(describing: holdStatus))")
            #expect(holdCluster?["holding"] as? Bool == true, "status of the hold host: \(String(describing: holdStatus))")
            #expect(fenceCluster?["holding"] as? Bool == false, "status of the fence host: \(String(describing: fenceStatus))")
            #expect(Self.metric(holdMetrics, "proxyarpd_cluster_holding") == 1, "\(holdMetrics.suffix(1500))")
            #expect(daemons.log(1).contains("holding owned VIPs"), "\(daemons.log(1).suffix(2000))")
            #expect(!daemons.log(1).contains("fenced: no keepalive"), "\(daemons.log(1).suffix(2000))")
            #expect(after[holdVIP] == 1, "after healing: \(after)")
            for vip in [fenceVIP, holdVIP] { #expect(log.duplicates(vip).isEmpty) }

            Self.report(
                "quorum loss",
                "fence: last answer \(stoppedAfter.map { "\(Int($0))" } ?? "none") ms after the second member's kill, answering again \(Int((end - healed) * 1000)) ms after etcd was healthy (bounded by the poll); hold: max answer gap \(Int(holdGap)) ms, \(holdUnanswered) unanswered")
        }
    }
}
