import Foundation
import ProxyARPCore
import ProxyARPStateMachines
import ProxyARPTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `proxyarpd-lab demo --cluster`: three daemons in cluster mode over a real 3-member etcd
/// (heartbeat 50 ms, election timeout 500 ms, lease 1 s), two NICs each on one client LAN.
/// Shows who answers each VIP, one host's `status`, then `kill -9`s the owner of the first
/// VIP and prints, per VIP it owned, how long until the client saw the new owner's first
/// gratuitous ARP. Everything (daemons, etcd, namespaces, files) is removed at the end.
struct ClusterDemoScript {
    let binary: String

    static let vips = (100..<106).map { "198.18.0.\($0)" }

    func run() async throws {
        print("== proxyarpd cluster demo: 3-member etcd (heartbeat 50 ms, election 500 ms), 3 hosts with 2 NICs each, 1 client")
        let lab = try await ClusterLab.build(hosts: 3, tag: "cd")
        var daemons: [LabProcess] = []
        var capture: LabProcess?
        do {
            try await scenario(lab, daemons: &daemons, capture: &capture)
        } catch {
            print("demo failed: \(error)")
            await teardown(lab, daemons: daemons, capture: capture)
            throw error
        }
        await teardown(lab, daemons: daemons, capture: capture)
    }

    private func teardown(_ lab: ClusterLab, daemons: [LabProcess], capture: LabProcess?) async {
        capture?.send(SIGKILL)
        _ = await capture?.stop(timeout: .seconds(2))
        for daemon in daemons where daemon.isRunning {
            daemon.send(SIGTERM)
            _ = await daemon.stop(timeout: .seconds(5))
        }
        await lab.destroy(daemons: daemons)
        print("== daemons stopped, etcd members killed, namespaces and files removed")
    }

    private func scenario(_ lab: ClusterLab, daemons: inout [LabProcess], capture: inout LabProcess?) async throws {
        print("   etcd: \(lab.etcd.endpoints.joined(separator: ", "))")
        for index in 0..<3 {
            let macs = ["ea", "eb"].map { "\($0) \(ClusterLab.mac(host: index, adapter: $0))" }.joined(separator: ", ")
            print("   \(ClusterLab.hostName(index)): \(macs)")
        }
        print("   VIPs (one ownership unit each): \(Self.vips.joined(separator: ", "))")
        print("\n== starting three daemons (lease_ttl 1s)")
        for index in 0..<3 { daemons.append(try lab.startDaemon(index, binary: binary, vips: Self.vips)) }

        let first = try await waitForOwners(lab, vips: Self.vips, excluding: nil, seconds: 20)
        guard first.count == Self.vips.count else {
            throw DemoError("not every VIP found an owner within 20 s: \(first)")
        }
        // Started together, the first host up may claim everything; rebalancing then hands each
        // unit to its rendezvous owner once the others have been up rebalance_after (3 s).
        let hashed = Dictionary(uniqueKeysWithValues: Self.vips.map { vip in
            (vip, Int(RendezvousRank.order(hosts: (0..<3).map(ClusterLab.hostName), unit: vip)[0].dropFirst(4))!)
        })
        let startedAt = Date()
        var owners = first
        while owners != hashed, Date().timeIntervalSince(startedAt) < 15 {
            try await Task.sleep(for: .milliseconds(500))
            owners = try await waitForOwners(lab, vips: Self.vips, excluding: nil, seconds: 5)
        }
        let firstText = Dictionary(grouping: Self.vips, by: { first[$0]! }).keys.sorted().map(ClusterLab.hostName).joined(separator: ", ")
        print(String(format: "   first owners: %@; spread as rendezvous hashing says after %.1f s: %@", firstText,
                     Date().timeIntervalSince(startedAt), owners == hashed ? "yes" : "not yet"))
        print("\n== the client resolves each VIP with arping: one host answers each")
        for vip in Self.vips {
            let host = owners[vip]!
            print("   \(vip.padding(toLength: 14, withPad: " ", startingAt: 0)) answered by \(ClusterLab.hostName(host))")
        }
        let victim = owners[Self.vips[0]]!
        let moved = Self.vips.filter { owners[$0] == victim }
        print("\n== proxyarpd status on \(ClusterLab.hostName(victim)) (cluster part)")
        print(try await statusCluster(lab, host: victim))

        let capturePath = "\(lab.directory)/client-arp.txt"
        capture = try LabProcess(
            binary: "/usr/bin/tcpdump", namespace: lab.client,
            arguments: ["-i", lab.clientDevice, "-n", "-tt", "-e", "-l", "--immediate-mode", "arp"], logPath: capturePath)
        try await Task.sleep(for: .milliseconds(700))  // tcpdump is listening

        print("\n== kill -9 \(ClusterLab.hostName(victim)) (owner of \(moved.joined(separator: ", ")))")
        let killedAt = Date().timeIntervalSince1970
        daemons[victim].send(SIGKILL)
        let after = try await waitForOwners(lab, vips: moved, excluding: victim, seconds: 10)
        try await Task.sleep(for: .milliseconds(300))  // tcpdump flushes its last line
        let text = (try? String(contentsOfFile: capturePath, encoding: .utf8)) ?? ""
        var times: [Double] = []
        for vip in moved {
            guard let host = after[vip],
                let first = ClusterBenchCommand.firstAnnouncement(in: text, vip: vip, after: killedAt, excludingHost: victim)
            else {
                print("   \(vip): no other host announced it within 10 s")
                continue
            }
            let milliseconds = (first - killedAt) * 1000
            times.append(milliseconds)
            print(String(format: "   %@  now %@: first gratuitous ARP from it seen by the client %.0f ms after the kill",
                         vip.padding(toLength: 14, withPad: " ", startingAt: 0), ClusterLab.hostName(host), milliseconds))
        }
        if let worst = times.max() {
            print(String(format: "   every VIP of the killed host answered elsewhere within %.0f ms (lease 1 s: the etcd lease has to expire first)", worst))
        }
        let survivor = after[moved[0]] ?? (victim + 1) % 3
        print("\n== proxyarpd status on \(ClusterLab.hostName(survivor)) after the takeover (cluster part)")
        print(try await statusCluster(lab, host: survivor))
    }

    /// The cluster part of `proxyarpd status` of host `index` (from the line that starts it).
    private func statusCluster(_ lab: ClusterLab, host index: Int) async throws -> String {
        let result = try await Command.run(binary, ["status", "--socket", lab.socketPath(host: index)], check: false)
        let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0.hasPrefix("cluster host") }) else { return result.output }
        return lines[start...].map { "   " + $0 }.joined(separator: "\n")
    }

    /// Polls arping until each VIP in `vips` has an answering host other than `excluded`.
    private func waitForOwners(_ lab: ClusterLab, vips: [String], excluding excluded: Int?, seconds: Int) async throws -> [String: Int] {
        var owners: [String: Int] = [:]
        let deadline = Date().addingTimeInterval(Double(seconds))
        while Date() < deadline {
            for vip in vips where owners[vip] == nil {
                let macs = try await lab.arping(vip, count: 1, timeoutSeconds: 1)
                if let host = macs.first.flatMap(ClusterLab.host(owning:)), host != excluded { owners[vip] = host }
            }
            if owners.count == vips.count { return owners }
            try await Task.sleep(for: .milliseconds(50))
        }
        return owners
    }
}

/// The cluster demo could not go on.
struct DemoError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
