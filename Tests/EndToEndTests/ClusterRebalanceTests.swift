import Foundation
import ProxyARPCore
import ProxyARPStateMachines
import ProxyARPTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Rebalancing: hosts started one after another end with the units spread as rendezvous
/// hashing (and `preferred_hosts`) says, each handover a short gap, never two hosts at once.
extension ClusterEndToEndTests {
    /// The unit owners etcd holds (unit name → host name), read with `etcdctl get`.
    static func etcdOwners(_ lab: ClusterLab) async throws -> [String: String] {
        let prefix = "/proxyarpd/\(lab.etcd.lab.prefix)/units/"
        let output = try await lab.etcd.etcdctl(["get", "--prefix", prefix]).output
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var owners: [String: String] = [:]
        var index = 0
        while index + 1 < lines.count {
            if lines[index].hasPrefix(prefix) {
                owners[String(lines[index].dropFirst(prefix.count))] = lines[index + 1]
                index += 2
            } else {
                index += 1
            }
        }
        return owners
    }

    @Test("rebalancing: three hosts started one after another end with the units where rendezvous hashing and preferred_hosts put them; each handover a short gap, never two hosts at once, no churn after")
    func hostsJoiningOneAfterAnotherRebalance() async throws {
        try await Self.withLab("rebalance", hosts: 3) { lab, daemons in
            let hashed = (100..<111).map { "198.18.0.\($0)" }
            // One VIP prefers host1 although hashing gives it to another host.
            let all3 = (0..<3).map(ClusterLab.hostName)
            let preferredVIP = try #require((111..<140).map { "198.18.0.\($0)" }.first { RendezvousRank.order(hosts: all3, unit: $0)[0] != "host1" })
            let vips = hashed + [preferredVIP]
            let entries = hashed + ["\(preferredVIP)\n    preferred_hosts: [host1]"]
            let preferred: [String: [String]] = [preferredVIP: ["host1"]]
            func expected(_ count: Int) -> [String: String] {
                let hosts = (0..<count).map(ClusterLab.hostName)
                return Dictionary(uniqueKeysWithValues: vips.map { ($0, RendezvousRank.order(hosts: hosts, unit: $0, preferred: preferred[$0] ?? [])[0]) })
            }
            let settle = "2s"
            try daemons.start(0, vips: entries, rebalanceAfter: settle)
            let first = try await Self.settledOwners(lab, vips: vips)
            try #require(first.count == vips.count && first.values.allSatisfy { $0 == 0 }, "host0 alone should own every VIP: \(first)")
            let probe = try await ClusterProbe.start(lab, daemons: daemons, vips: vips, name: "rebalance", seconds: 90)
            try await Task.sleep(for: .seconds(1))

            var moves: [(vip: String, from: Int, to: Int, joinedAt: Double)] = []
            var owners = expected(1)
            var convergence: [String] = []
            for joiner in 1..<3 {
                let joinedAt = Self.wallClock
                try daemons.start(joiner, vips: entries, rebalanceAfter: settle)
                let target = expected(joiner + 1)
                var seen: [String: String] = [:]
                let start = ContinuousClock.now
                while ContinuousClock.now - start < .seconds(40) {
                    seen = try await Self.etcdOwners(lab)
                    if seen == target { break }
                    try await Task.sleep(for: .milliseconds(200))
                }
                #expect(seen == target, "after host\(joiner) joined: etcd says \(seen), hashing says \(target)")
                convergence.append("host\(joiner): \(String(format: "%.1f", Self.wallClock - joinedAt)) s")
                for vip in vips where target[vip] != owners[vip] {
                    moves.append((vip, Int(owners[vip]!.dropFirst(4))!, Int(target[vip]!.dropFirst(4))!, joinedAt))
                }
                owners = target
                // The new owners answer (ARP from the client), each VIP from one host.
                let answering = try await Self.settledOwners(lab, vips: vips)
                for vip in vips { #expect(answering[vip].map(ClusterLab.hostName) == target[vip], "\(vip): answered by \(String(describing: answering[vip])), owner \(target[vip]!)") }
            }
            // No churn: 4 s later (twice the settle time) nothing moved again.
            try await Task.sleep(for: .seconds(4))
            #expect(try await Self.etcdOwners(lab) == owners, "units moved again after the spread settled")
            let log = await probe.stop()

            let handovers = (0..<3).map { daemons.log($0).components(separatedBy: "handing over to its natural owner").count - 1 }
            // One handover per move, unless another host claimed first (its rank's delay ran out
            // before the natural owner's claim was committed) and handed it on in turn.
            #expect(handovers.reduce(0, +) >= moves.count, "handovers logged \(handovers), moves \(moves.count)")
            #expect(moves.contains { $0.vip == preferredVIP && $0.to == 1 }, "the VIP preferring host1 went to it: \(moves)")
            #expect(Set(owners.values) == Set(all3), "every host owns something: \(owners)")
            var gaps: [Double] = []
            var lost: [Int] = []
            for move in moves {
                #expect(log.duplicates(move.vip).isEmpty, "two hosts answered \(move.vip) within 10 ms: \(log.duplicates(move.vip).prefix(3))")
                let firstNew = log.answers(move.vip).first { $0.time > move.joinedAt && ClusterLab.host(owning: $0.source) == move.to }?.time
                guard let firstNew else {
                    Issue.record("\(move.vip): host\(move.to) never answered")
                    continue
                }
                let lastOld = log.answers(move.vip).last { $0.time < firstNew && ClusterLab.host(owning: $0.source) != move.to }?.time ?? move.joinedAt
                #expect(log.answers(move.vip).filter { $0.time > firstNew && ClusterLab.host(owning: $0.source) == move.from }.isEmpty,
                        "\(move.vip): host\(move.from) answered after host\(move.to) took over")
                let missed = log.requests(move.vip).filter { $0.time > lastOld && $0.time < firstNew }.count
                gaps.append((firstNew - lastOld) * 1000)
                lost.append(missed)
                // A handover is not a lease expiry: at 20 probes a second, a gap of a whole
                // lease TTL (1 s) would lose 20.
                #expect(missed < 20, "\(move.vip): \(missed) probes lost in the handover host\(move.from)→host\(move.to)")
            }
            for vip in vips where !moves.contains(where: { $0.vip == vip }) {
                #expect(log.answeringHosts(vip).count == 1, "\(vip) did not move but was answered by \(log.answeringHosts(vip))")
            }
            let sorted = gaps.sorted()
            Self.report(
                "rebalance",
                "\(moves.count) moves, \(handovers.reduce(0, +)) handovers logged (\(moves.map { "\($0.vip) host\($0.from)→host\($0.to)" }.joined(separator: ", "))); converged \(convergence.joined(separator: ", ")) after joining (settle 2s); answer gap ms min \(String(format: "%.0f", sorted.first ?? 0)) median \(String(format: "%.0f", sorted.isEmpty ? 0 : sorted[sorted.count / 2])) max \(String(format: "%.0f", sorted.last ?? 0)); probes lost per handover \(lost) (20/s per VIP)")
        }
    }
    @Test("rebalancing hysteresis: a host in a crash loop (kill -9 and restart every 1.5 s, its key living at most ~3 s with the lease) is handed nothing with rebalance_after 4s; once it stays up it gets its hashed units")
    func crashLoopingHostIsHandedNothing() async throws {
        try await Self.withLab("crashloop", hosts: 2) { lab, daemons in
            let vips = (100..<108).map { "198.18.0.\($0)" }
            let hashed = vips.filter { RendezvousRank.order(hosts: ["host0", "host1"], unit: $0)[0] == "host1" }
            try #require(!hashed.isEmpty)
            try daemons.start(0, vips: vips, rebalanceAfter: "4s")
            let first = try await Self.settledOwners(lab, vips: vips)
            try #require(first.count == vips.count && first.values.allSatisfy { $0 == 0 }, "\(first)")
            // Five short lives of host1: its membership key lives from its registration until its
            // lease expires after the kill (1 s TTL), so at most ~3 s, under host0's 4 s.
            for _ in 0..<5 {
                try daemons.start(1, vips: vips, rebalanceAfter: "4s")
                try await Task.sleep(for: .milliseconds(1500))
                daemons[1].send(SIGKILL)
                await daemons[1].stop(timeout: .seconds(2))
            }
            let handedDuringLoop = daemons.log(0).components(separatedBy: "handing over to its natural owner").count - 1
            let livesSeen = daemons.log(0).split(separator: "\n").filter { $0.contains("cluster member able") && $0.contains("member=host1") }.count
            #expect(livesSeen >= 2, "host0 saw host1 able only \(livesSeen) times: the loop did not test anything")
            let ownersAfterLoop = try await Self.etcdOwners(lab)
            #expect(handedDuringLoop == 0, "host0 handed \(handedDuringLoop) units to a host that never stayed up 4 s")
            #expect(Set(ownersAfterLoop.values) == ["host0"], "\(ownersAfterLoop)")
            // It stays up: its hashed units come to it.
            let stayedAt = ContinuousClock.now
            try daemons.start(1, vips: vips, rebalanceAfter: "4s")
            var owners: [String: String] = [:]
            while ContinuousClock.now - stayedAt < .seconds(30) {
                owners = try await Self.etcdOwners(lab)
                if Set(hashed) == Set(owners.filter { $0.value == "host1" }.keys) { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(Set(owners.filter { $0.value == "host1" }.keys) == Set(hashed), "etcd: \(owners); hashing gives host1 \(hashed)")
            Self.report("crash loop", "host0 saw host1 able \(livesSeen) times in 5 lives of 1.5 s and handed it \(handedDuringLoop) units (rebalance_after 4s); \(hashed.count) units reached host1 \(ContinuousClock.now - stayedAt) after it started to stay")
        }
    }
}
