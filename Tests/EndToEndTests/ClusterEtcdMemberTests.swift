import Foundation
import ProxyARPCore
import ProxyARPTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// etcd member restarts and leader changes under three daemons, probed from the client.
extension ClusterEndToEndTests {
    /// Checks the client's view of `vips` over [`from`, `to`]: each answered by its owner only,
    /// never by two hosts within 10 ms; returns the largest answer gap (ms) and the unanswered probes.
    static func checkContinuity(
        _ log: ClientARPLog, vips: [String], owners: [String: Int], from: Double, to: Double
    ) -> (maxGap: Double, unanswered: Int, probes: Int) {
        var maxGap = 0.0
        var unanswered = 0
        var probes = 0
        for vip in vips {
            #expect(log.duplicates(vip).isEmpty, "\(vip): two hosts answered within 10 ms: \(log.duplicates(vip).prefix(3))")
            #expect(log.answeringHosts(vip, from: from, to: to) == [owners[vip]!], "\(vip): hosts \(log.answeringHosts(vip, from: from, to: to))")
            maxGap = max(maxGap, log.maxGap(vip, from: from, to: to))
            unanswered += log.unanswered(vip, from: from, to: to - 0.5)
            probes += log.requests(vip).filter { $0.time >= from && $0.time <= to }.count
        }
        return (maxGap, unanswered, probes)
    }

    @Test("etcd: a follower restart, a leader restart and a leader change (move-leader) lose no VIP and duplicate none")
    func etcdMemberRestartsAndLeaderChange() async throws {
        try await Self.withLab("members", hosts: 3) { lab, daemons in
            for index in 0..<3 { try daemons.start(index, vips: Self.vips) }
            let owners = try await Self.settledOwners(lab, vips: Self.vips)
            try #require(owners.count == Self.vips.count, "owners: \(owners)")
            let probe = try await ClusterProbe.start(lab, daemons: daemons, vips: Self.vips, name: "members")
            let start = Self.wallClock
            var events: [String] = []

            // A follower, stopped (SIGTERM) for a second and started again.
            let leader = try #require(try await lab.etcd.leaderIndex())
            let follower = (leader + 1) % 3
            events.append("follower m\(follower) stopped at +\(Int((Self.wallClock - start) * 1000)) ms")
            await lab.etcd.stopMember(follower)
            try await Task.sleep(for: .seconds(1))
            try await lab.etcd.restartMember(follower)
            try await Task.sleep(for: .seconds(1))

            // The leader, stopped (SIGTERM: it hands its leadership over first) and started again.
            let secondLeader = try #require(try await lab.etcd.leaderIndex())
            events.append("leader m\(secondLeader) stopped at +\(Int((Self.wallClock - start) * 1000)) ms")
            await lab.etcd.stopMember(secondLeader)
            try await Task.sleep(for: .seconds(1))
            try await lab.etcd.restartMember(secondLeader)
            try await Task.sleep(for: .seconds(1))

            // A leader change: move-leader to another member.
            let thirdLeader = try #require(try await lab.etcd.leaderIndex())
            let target = (thirdLeader + 1) % 3
            events.append("move-leader m\(thirdLeader) → m\(target) at +\(Int((Self.wallClock - start) * 1000)) ms")
            try await lab.etcd.moveLeader(to: target)
            try await Task.sleep(for: .seconds(2))
            #expect(try await lab.etcd.leaderIndex() == target)

            let end = Self.wallClock
            let log = await probe.stop()
            let (maxGap, unanswered, probes) = Self.checkContinuity(log, vips: Self.vips, owners: owners, from: start, to: end)
            #expect(probes > 100, "the probes did not run: \(probes)")
            #expect(unanswered == 0, "\(unanswered) of \(probes) probes unanswered within 500 ms")
            for index in 0..<3 {
                #expect(!daemons.log(index).contains("fenced"), "host \(index) fenced:\n\(daemons.log(index).suffix(2000))")
                #expect(daemons[index].isRunning)
            }
            Self.report("members", "\(events.joined(separator: "; ")): max answer gap \(Int(maxGap)) ms over \(Self.vips.count) VIPs, \(unanswered)/\(probes) probes unanswered")
        }
    }

    @Test(
        "etcd leader crash (kill -9): never two MACs for a VIP, owners unchanged, a lost probe always comes with a fence (1 s and 2 s leases)",
        arguments: ["1s", "2s"])
    func etcdLeaderCrash(leaseTTL: String) async throws {
        try await Self.withLab("leadercrash-\(leaseTTL)", hosts: 3) { lab, daemons in
            let vips = Array(Self.vips.prefix(3))
            for index in 0..<3 { try daemons.start(index, vips: vips, leaseTTL: leaseTTL) }
            let owners = try await Self.settledOwners(lab, vips: vips)
            try #require(owners.count == vips.count, "owners: \(owners)")
            let probe = try await ClusterProbe.start(lab, daemons: daemons, vips: vips, name: "leadercrash")
            let start = Self.wallClock
            let leader = try #require(try await lab.etcd.leaderIndex())
            let killedAt = Self.wallClock
            await lab.etcd.killMember(leader)
            try await Task.sleep(for: .seconds(3))
            try await lab.etcd.restartMember(leader)
            try await Task.sleep(for: .seconds(1))
            let end = Self.wallClock
            let log = await probe.stop()
            var maxGap = 0.0
            var unanswered = 0
            for vip in vips {
                #expect(log.duplicates(vip).isEmpty, "\(vip): two hosts within 10 ms: \(log.duplicates(vip).prefix(3))")
                maxGap = max(maxGap, log.maxGap(vip, from: start, to: end))
                unanswered += log.unanswered(vip, from: start, to: end - 0.5)
                // Answered again at the end, by its owner: the lease outlived the election.
                #expect(log.answeringHosts(vip, from: end - 0.5, to: end) == [owners[vip]!], "\(vip) at the end: \(log.answeringHosts(vip, from: end - 0.5, to: end))")
            }
            let fencedHosts = (0..<3).filter { daemons.log($0).contains("fenced: no keepalive") }
            // Whether the election outlasts the fence deadline is a matter of timing (1 s: every
            // run so far; 2 s: none at load 14-17, two hosts at load 21): not asserted, reported.
            // What must hold: probes go unanswered only when a host fenced itself.
            #expect(unanswered == 0 || !fencedHosts.isEmpty, "\(unanswered) probes unanswered but no host fenced")
            Self.report(
                "leader crash, lease \(leaseTTL)",
                "killed m\(leader) at \(String(format: "%.3f", killedAt)): hosts fenced \(fencedHosts), max answer gap \(Int(maxGap)) ms, \(unanswered) probes unanswered")
        }
    }
}
