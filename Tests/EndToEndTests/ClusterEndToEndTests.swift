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
            for index in 0..<3 { daemons.append(try lab.startDaemon(index, binary: DaemonLab.binary, vips: Self.vips)) }
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
}
