import Foundation
import ProxyARPCore
import ProxyARPTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `on_quorum_loss: hold` on a host whose own path to etcd is cut while the etcd members keep
/// their quorum and the other host still reaches them: the documented trade-off of `hold`.
extension ClusterEndToEndTests {
    @Test("hold with the host's own etcd path cut: it keeps answering (holding), the other host takes over at lease expiry (two hosts answer: the documented trade-off), and after healing it withdraws at once and the new owner keeps the VIPs")
    func holdWithOwnPathCut() async throws {
        try await Self.withLab("holdcut", hosts: 2) { lab, daemons in
            let vips = ["198.18.0.100", "198.18.0.101"]
            let hold = "  on_quorum_loss: hold"
            // host0 alone first, so it owns both; host1 joins (no rebalancing: owners stay).
            try daemons.start(0, vips: vips, extraCluster: hold, metricsPort: 9469)
            let owners = try await Self.settledOwners(lab, vips: vips)
            try #require(owners == [vips[0]: 0, vips[1]: 0], "owners: \(owners)")
            try daemons.start(1, vips: vips, extraCluster: hold, metricsPort: 9469)
            for _ in 0..<50 {
                if let status = try await Self.status(lab, host: 0), Self.knowsHost1(status) { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            let probe = try await ClusterProbe.start(lab, daemons: daemons, vips: vips, name: "holdcut")
            let start = Self.wallClock

            // Cut host0's etcd link only: the members keep their quorum, host1 still reaches them.
            let cut = Self.wallClock
            try await lab.etcd.setPath(of: lab.hosts[0], up: false)
            // host1 claims once host0's lease expired on the server (1 s lease): wait for its key.
            var taken = false
            for _ in 0..<50 where !taken {
                try await Task.sleep(for: .milliseconds(200))
                let etcdOwners = try await Self.etcdOwners(lab)
                taken = vips.allSatisfy { etcdOwners[$0] == ClusterLab.hostName(1) }
            }
            #expect(taken, "host1 did not take the units over while host0 was cut off")
            try await Task.sleep(for: .seconds(2))
            let holdStatus = try await Self.status(lab, host: 0)
            let holdMetrics = try await lab.etcd.lab.exec(lab.hosts[0], "curl", ["-s", "-m", "3", "http://127.0.0.1:9469/metrics"], check: false).output

            // Heal: host0 reaches etcd again, learns its lease is gone and withdraws.
            let healed = Self.wallClock
            try await lab.etcd.setPath(of: lab.hosts[0], up: true)
            try await Task.sleep(for: .seconds(4))
            let afterStatus = try await Self.status(lab, host: 0)
            let afterMetrics = try await lab.etcd.lab.exec(lab.hosts[0], "curl", ["-s", "-m", "3", "http://127.0.0.1:9469/metrics"], check: false).output
            let end = Self.wallClock
            let log = await probe.stop()
            let etcdAfter = try await Self.etcdOwners(lab)

            var reports: [String] = []
            for vip in vips {
                // Until host1's first answer only host0 answers, and every probe is answered.
                let firstNew = try #require(log.answers(vip).first { ClusterLab.host(owning: $0.source) == 1 && $0.time > cut }?.time, "host1 never answered \(vip)")
                #expect(log.answeringHosts(vip, from: start, to: firstNew - 0.001) == [0])
                #expect(log.unanswered(vip, from: start, to: healed) == 0, "\(vip): a probe unanswered while host0 held it")
                // The trade-off, as documented: host0 keeps answering while cut off, after host1 took over.
                let heldAnswers = log.answers(vip).filter { ClusterLab.host(owning: $0.source) == 0 && $0.time > firstNew && $0.time < healed }
                #expect(!heldAnswers.isEmpty, "\(vip): host0 stopped answering on its own while cut off (README documents that it holds)")
                let splitBrain = log.duplicates(vip).filter { $0.0 < healed }
                // After healing: host0 stops within a bound (its first keepalive that reaches etcd says the lease is gone).
                let lastHeld = log.lastAnswer(vip, host: 0) ?? cut
                let stoppedAfterHeal = (lastHeld - healed) * 1000
                #expect(lastHeld < healed + 2.0, "\(vip): host0 answered \(Int(stoppedAfterHeal)) ms after the heal")
                #expect(log.answeringHosts(vip, from: healed + 2.0, to: end) == [1], "\(vip): after the heal only the new owner answers")
                #expect(log.duplicates(vip).filter { $0.0 > healed + 2.0 }.isEmpty)
                #expect(log.unanswered(vip, from: healed, to: end - 0.6) == 0, "\(vip): the new owner was disturbed by the rejoin")
                #expect(etcdAfter[vip] == ClusterLab.hostName(1), "etcd after the heal: \(etcdAfter)")
                reports.append(
                    "\(vip): host1's first answer \(Int((firstNew - cut) * 1000)) ms after the cut; two hosts answering for \(Int((min(lastHeld, healed) - firstNew) * 1000)) ms (\(splitBrain.count) pairs of answers within 10 ms); host0's last answer \(Int(stoppedAfterHeal)) ms after the heal")
            }

            // Status, metrics and log of the holding host while cut off...
            let holdCluster = holdStatus?["cluster"] as? [String: Any]
            #expect(holdCluster?["holding"] as? Bool == true, "status while cut off: \(String(describing: holdCluster))")
            #expect(holdCluster?["fenced"] as? Bool == false, "status while cut off: \(String(describing: holdCluster))")
            #expect(Self.metric(holdMetrics, "proxyarpd_cluster_holding") == 1, "\(holdMetrics.suffix(1500))")
            #expect(Self.metric(holdMetrics, "proxyarpd_cluster_fence_events_total{cause=\"held\"}") >= 1, "\(holdMetrics.suffix(1500))")
            #expect(daemons.log(0).contains("holding owned VIPs"), "\(daemons.log(0).suffix(2000))")
            // ...and after the heal: no longer holding, the lease was gone, host1 owns the units, host0 claims nothing back.
            let afterCluster = afterStatus?["cluster"] as? [String: Any]
            #expect(afterCluster?["holding"] as? Bool == false, "status after the heal: \(String(describing: afterCluster))")
            #expect(Self.metric(afterMetrics, "proxyarpd_cluster_holding") == 0, "\(afterMetrics.suffix(1500))")
            #expect(daemons.log(0).contains("lease lost"), "\(daemons.log(0).suffix(2000))")
            let units = afterCluster?["units"] as? [[String: Any]] ?? []
            #expect(units.count == 2 && units.allSatisfy { $0["owner"] as? String == ClusterLab.hostName(1) }, "\(units)")
            Self.report("hold, own path cut", reports.joined(separator: "; "))
        }
    }

    /// True when a `status` object's cluster view lists host1 among the live hosts.
    static func knowsHost1(_ status: [String: Any]) -> Bool {
        ((status["cluster"] as? [String: Any])?["hosts"] as? [String])?.contains(ClusterLab.hostName(1)) == true
    }
}
