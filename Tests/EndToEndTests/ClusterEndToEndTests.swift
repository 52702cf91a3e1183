import Foundation
import ProxyARPCore
import ProxyARPTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// etcd installed too.
let clusterEnabled = endToEndEnabled && FileManager.default.isExecutableFile(atPath: EtcdLab.binary)

/// Three real daemons in cluster mode over a real 3-member etcd, two NICs each on one client LAN.
@Suite("End to end: cluster mode over etcd", .serialized, .enabled(if: clusterEnabled))
struct ClusterEndToEndTests {
    static let vips = (100..<106).map { "198.18.0.\($0)" }
    /// `cluster.rebalance_after: off`, for the tests whose owners must not move when hosts
    /// start together or rejoin (rebalancing has its own tests).
    static let noRebalance = "  rebalance_after: off"

    /// The host answering for each VIP; records an issue when a VIP has two MACs or none.
    static func owners(_ lab: ClusterLab, vips: [String]) async throws -> [String: Int] {
        var owners: [String: Int] = [:]
        for vip in vips {
            let macs = try await lab.arping(vip, count: 2, timeoutSeconds: 2)
            let distinct = Set(macs)
            #expect(distinct.count <= 1, "\(vip) answered by \(distinct)")
            if let mac = distinct.first, let host = ClusterLab.host(owning: mac) { owners[vip] = host }
        }
        return owners
    }

    /// Polls until every VIP in `vips` has one owner not in `excluded` (at most `seconds`).
    static func waitForOwners(_ lab: ClusterLab, vips: [String], excluding excluded: Set<Int> = [], seconds: Int = 20) async throws -> [String: Int] {
        var owners: [String: Int] = [:]
        for _ in 0..<(seconds * 2) {
            owners = try await Self.owners(lab, vips: vips)
            if owners.count == vips.count, owners.values.allSatisfy({ !excluded.contains($0) }) { return owners }
            try await Task.sleep(for: .milliseconds(200))
        }
        return owners
    }

    @Test("each VIP has exactly one answering MAC; kill -9 and SIGTERM of an owner move its VIPs")
    func ownershipAndTakeover() async throws {
        let lab = try await ClusterLab.build(hosts: 3)
        var daemons: [LabProcess] = []
        do {
            for index in 0..<3 { daemons.append(try lab.startDaemon(index, binary: DaemonLab.binary, vips: Self.vips, extraCluster: Self.noRebalance)) }
            let owners = try await Self.waitForOwners(lab, vips: Self.vips)
            #expect(owners.count == Self.vips.count, "owners: \(owners)")

            // kill -9 the owner of the first VIP: its VIPs move to the others.
            let victim = try #require(owners[Self.vips[0]])
            daemons[victim].send(SIGKILL)
            let moved = owners.filter { $0.value == victim }.map(\.key).sorted()
            let after = try await Self.waitForOwners(lab, vips: moved, excluding: [victim])
            for vip in moved { #expect(after[vip] != nil && after[vip] != victim, "\(vip): \(after)") }

            // SIGTERM the owner of a VIP now: it releases at once, the last host answers.
            let survivors = Set(0..<3).subtracting([victim])
            let all = try await Self.waitForOwners(lab, vips: Self.vips, excluding: [victim])
            let stopping = try #require(all[Self.vips[0]])
            #expect(survivors.contains(stopping))
            await daemons[stopping].stop()
            let last = survivors.subtracting([stopping])
            let final = try await Self.waitForOwners(lab, vips: Self.vips, excluding: [victim, stopping], seconds: 10)
            for vip in Self.vips { #expect(final[vip].map(last.contains) == true, "\(vip): \(final)") }
            let log = (try? String(contentsOfFile: "\(lab.directory)/h\(stopping).log", encoding: .utf8)) ?? ""
            #expect(log.contains("lease revoked"), "\(log.suffix(2000))")
        } catch {
            await lab.destroy(daemons: daemons)
            throw error
        }
        await lab.destroy(daemons: daemons)
    }

    /// The ARP lines of a client `tcpdump -tt -e -n arp` that show a MAC answering for `vip`
    /// (a reply, or a gratuitous request): (time, MAC).
    static func answers(in text: String, vip: String) -> [(time: Double, mac: MACAddress)] {
        text.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ")
            guard words.count > 2, let time = Double(words[0]), let mac = MACAddress(String(words[1])),
                line.contains("Reply \(vip) is-at") || line.contains("who-has \(vip) tell \(vip)")
            else { return nil }
            return (time, mac)
        }
    }

    @Test("partition: the owner cut off from etcd fences before another host answers, and rejoins quietly")
    func partitionFencesBeforeTakeover() async throws {
        let lab = try await ClusterLab.build(hosts: 3)
        var daemons: [LabProcess] = []
        var capture: LabProcess?
        do {
            for index in 0..<3 { daemons.append(try lab.startDaemon(index, binary: DaemonLab.binary, vips: Self.vips, extraCluster: Self.noRebalance)) }
            let owners = try await Self.waitForOwners(lab, vips: Self.vips)
            let vip = Self.vips[0]
            let victim = try #require(owners[vip])
            let capturePath = "\(lab.directory)/partition.txt"
            capture = try LabProcess(
                binary: "/usr/bin/tcpdump", namespace: lab.client,
                arguments: ["-i", lab.clientDevice, "-n", "-tt", "-e", "-l", "--immediate-mode", "arp"], logPath: capturePath)
            try await Task.sleep(for: .milliseconds(500))
            try await lab.etcd.setPath(of: lab.hosts[victim], up: false)
            // Ask for the VIP every ~100 ms until another host answers (at most 10 s).
            var moved = false
            for _ in 0..<100 where !moved {
                let macs = try await lab.arping(vip, count: 1, timeoutSeconds: 1)
                moved = macs.contains { ClusterLab.host(owning: $0).map { $0 != victim } ?? false }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(moved, "no other host took \(vip) over")
            // Heal: the victim rejoins without taking the VIP back.
            try await lab.etcd.setPath(of: lab.hosts[victim], up: true)
            try await Task.sleep(for: .seconds(3))
            let after = try await lab.arping(vip, count: 3, timeoutSeconds: 3)
            #expect(!after.isEmpty && after.allSatisfy { ClusterLab.host(owning: $0) != victim }, "\(after)")
            try await Task.sleep(for: .milliseconds(300))
            capture?.send(SIGTERM)
            _ = await capture?.stop(timeout: .seconds(2))
            let text = (try? String(contentsOfFile: capturePath, encoding: .utf8)) ?? ""
            let answers = Self.answers(in: text, vip: vip)
            let victimTimes = answers.filter { ClusterLab.host(owning: $0.mac) == victim }.map(\.time)
            let otherTimes = answers.filter { ClusterLab.host(owning: $0.mac).map { $0 != victim } ?? false }.map(\.time)
            let lastVictim = try #require(victimTimes.max(), "the victim never answered in the capture")
            let firstOther = try #require(otherTimes.min(), "no other host answered in the capture")
            // Never two MACs for one VIP: the victim's last answer comes before the new owner's first.
            #expect(lastVictim < firstOther, "victim answered until \(lastVictim), new owner from \(firstOther)")
            let log = (try? String(contentsOfFile: "\(lab.directory)/h\(victim).log", encoding: .utf8)) ?? ""
            #expect(log.contains("fenced"), "\(log.suffix(2000))")
        } catch {
            capture?.send(SIGKILL)
            await lab.destroy(daemons: daemons)
            throw error
        }
        capture?.send(SIGKILL)
        await lab.destroy(daemons: daemons)
    }

    @Test("all NICs of the owner lose carrier: it releases its units and another host answers")
    func allNICsDownReleases() async throws {
        let lab = try await ClusterLab.build(hosts: 3)
        var daemons: [LabProcess] = []
        do {
            for index in 0..<3 { daemons.append(try lab.startDaemon(index, binary: DaemonLab.binary, vips: Self.vips, extraCluster: Self.noRebalance)) }
            let owners = try await Self.waitForOwners(lab, vips: Self.vips)
            let vip = Self.vips[0]
            let victim = try #require(owners[vip])
            // Carrier loss on both of the victim's NICs (their bridge ports go down); its etcd path stays up.
            for adapter in ["ea", "eb"] {
                try await lab.etcd.lab.ip(lab.fabric, "link", "set", "s\(victim)\(adapter)", "down")
            }
            let moved = owners.filter { $0.value == victim }.map(\.key).sorted()
            let after = try await Self.waitForOwners(lab, vips: moved, excluding: [victim], seconds: 10)
            for vip in moved { #expect(after[vip] != nil && after[vip] != victim, "\(vip): \(after)") }
            let log = (try? String(contentsOfFile: "\(lab.directory)/h\(victim).log", encoding: .utf8)) ?? ""
            #expect(log.contains("no NIC can serve"), "\(log.suffix(2000))")
            #expect(!log.contains("fenced: no keepalive"), "the victim kept its lease: it released, it was not fenced")
        } catch {
            await lab.destroy(daemons: daemons)
            throw error
        }
        await lab.destroy(daemons: daemons)
    }
}
