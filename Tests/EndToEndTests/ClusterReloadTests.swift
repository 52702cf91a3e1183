import Foundation
import ProxyARPCore
import ProxyARPTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// SIGHUP with a VIP removed, in cluster mode.
extension ClusterEndToEndTests {
    /// Waits (bounded) until `watcher`'s output (an `etcdctl watch`) shows `text`; returns when it was seen.
    static func waitForOutput(_ watcher: LabProcess, _ text: String, seconds: Double = 5) async throws -> Double? {
        let deadline = wallClock + seconds
        while wallClock < deadline {
            if let output = try? String(contentsOfFile: watcher.logPath, encoding: .utf8), output.contains(text) { return wallClock }
            try await Task.sleep(for: .milliseconds(2))
        }
        return nil
    }

    @Test("reload without a VIP: its key is deleted at once; a host still configured with it takes it; once no host has it, nobody answers")
    func reloadRemovingAVIPReleasesItsKey() async throws {
        try await Self.withLab("reload", hosts: 3) { lab, daemons in
            let vips = Array(Self.vips.prefix(4))
            for index in 0..<3 { try daemons.start(index, vips: vips) }
            let owners = try await Self.settledOwners(lab, vips: vips)
            try #require(owners.count == vips.count, "owners: \(owners)")
            let vip = vips[0]
            let owner = try #require(owners[vip])
            let key = "/proxyarpd/\(lab.etcd.lab.prefix)/units/\(vip)"
            let probe = try await ClusterProbe.start(lab, daemons: daemons, vips: vips, name: "reload")

            // `etcdctl watch` on the unit's key prints DELETE the moment etcd deletes it.
            let watcher = try LabProcess(
                binary: "/usr/bin/env", namespace: lab.etcd.namespace, arguments: lab.etcd.etcdctlCommand(["watch", key]),
                logPath: "\(lab.directory)/reload-watch.txt")
            daemons.helpers.append(watcher)
            try await Task.sleep(for: .milliseconds(500))

            try lab.writeConfiguration(host: owner, vips: vips.filter { $0 != vip }, extraCluster: Self.noRebalance)
            let reloadedAt = Self.wallClock
            daemons[owner].send(SIGHUP)
            let deletedAt = try await Self.waitForOutput(watcher, "DELETE")
            #expect(deletedAt != nil, "the key was not deleted within 5 s of the reload")
            let releaseMilliseconds = deletedAt.map { ($0 - reloadedAt) * 1000 }

            // Another host, which still has the VIP configured, claims it and answers.
            let moved = try await Self.settledOwners(lab, vips: [vip], excluding: [owner], seconds: 10)
            let newOwner = try #require(moved[vip], "nobody took \(vip) over")
            #expect(newOwner != owner)
            let takenAt = Self.wallClock

            // Now every other host drops it too: the key goes and nobody answers for the VIP.
            for index in 0..<3 where index != owner {
                try lab.writeConfiguration(host: index, vips: vips.filter { $0 != vip }, extraCluster: Self.noRebalance)
                daemons[index].send(SIGHUP)
            }
            var gone = false
            for _ in 0..<50 where !gone {
                try await Task.sleep(for: .milliseconds(100))
                gone = try await lab.etcd.etcdctl(["get", key, "--print-value-only"]).output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            }
            #expect(gone, "the key is still in etcd after every host dropped \(vip)")
            let droppedAt = Self.wallClock
            try await Task.sleep(for: .seconds(2))
            #expect(try await lab.etcd.etcdctl(["get", key, "--print-value-only"]).output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
            let others = try await Self.quickOwners(lab, vips: Array(vips.dropFirst()))
            let end = Self.wallClock
            let log = await probe.stop()

            // The first owner never answered after the release; nobody answered once no host had it.
            #expect(log.answers(vip).filter { $0.time > (deletedAt ?? reloadedAt) && ClusterLab.host(owning: $0.source) == owner }.isEmpty)
            #expect(log.answers(vip).filter { $0.time > droppedAt + 0.5 }.isEmpty, "answered after every host dropped it")
            #expect(log.unanswered(vip, from: droppedAt + 0.5, to: end - 0.5) > 0, "no probe while nobody had \(vip)")
            // The other VIPs kept their owners.
            for other in vips.dropFirst() { #expect(others[other] == owners[other], "\(other): \(others[other] ?? -1) was \(owners[other]!)") }
            for vip in vips { #expect(log.duplicates(vip).isEmpty, "\(vip): \(log.duplicates(vip).prefix(3))") }
            let firstNew = log.firstAnnouncement(vip, after: reloadedAt) { $0 != owner }
            Self.report(
                "reload",
                "SIGHUP → key deleted \(releaseMilliseconds.map { String(format: "%.0f", $0) } ?? "never") ms (etcdctl watch, 2 ms poll), → first announcement by host \(newOwner) \(firstNew.map { String(format: "%.0f", ($0 - reloadedAt) * 1000) } ?? "none") ms; checked by \(Int((takenAt - reloadedAt) * 1000)) ms")
        }
    }
}
