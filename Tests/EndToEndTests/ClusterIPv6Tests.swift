import Foundation
import ProxyARPCore
import ProxyARPStateMachines
import ProxyARPTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// An IPv6 VIP in cluster mode: one unit (`units/2001:db8::100`), answered over Neighbor
/// Discovery by its owner only, and by another host after a kill -9.
extension ClusterEndToEndTests {
    @Test("IPv6 VIP in cluster mode: its etcd key names the address, only the owner advertises it (ndisc6), and it moves on kill -9")
    func ipv6VIPOwnedAnsweredAndMoved() async throws {
        try await Self.withLab("ipv6", hosts: 3) { lab, daemons in
            try await lab.enableIPv6()
            let vip = try #require(IPv6Address("2001:db8::100"))
            let unit = vip.description
            let hosts = (0..<3).map(ClusterLab.hostName)
            let order = RendezvousRank.order(hosts: hosts, unit: unit)
            let vips = ["198.18.0.100", unit]
            for index in 0..<3 { try daemons.start(index, vips: vips, rebalanceAfter: nil) }  // the default, 3 s

            // Started together, the first host up may claim it; rebalancing then moves it to
            // the hashed owner. Wait for that.
            var owners: [String: String] = [:]
            let start = ContinuousClock.now
            while ContinuousClock.now - start < .seconds(30) {
                owners = try await Self.etcdOwners(lab)
                if owners[unit] == order[0] { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(owners[unit] == order[0], "etcd: \(owners), hashing says \(order[0])")
            let owner = try #require(hosts.firstIndex(of: order[0]))
            // Unsolicited advertisements of the activation included: every advertisement the
            // client sees comes from the owner, one of its two NICs.
            var answering: Set<Int> = []
            for _ in 0..<20 where answering.isEmpty {
                answering = Set(try await lab.ndisc6(vip).compactMap(ClusterLab.host(owning:)))
            }
            try await Task.sleep(for: .seconds(1))
            for _ in 0..<3 { answering.formUnion(try await lab.ndisc6(vip).compactMap(ClusterLab.host(owning:))) }
            #expect(answering == [owner], "\(vip) advertised by hosts \(answering), owner host\(owner)")

            // kill -9: the next host in the hashing order takes it once the lease expires.
            let killedAt = Self.wallClock
            daemons[owner].send(SIGKILL)
            var successor: Set<Int> = []
            for _ in 0..<15 {
                let macs = try await lab.ndisc6(vip, waitMilliseconds: 500)
                successor = Set(macs.compactMap(ClusterLab.host(owning:)))
                if !successor.isEmpty, !successor.contains(owner) { break }
            }
            let movedAfter = Self.wallClock - killedAt
            let next = try #require(hosts.firstIndex(of: order[1]))
            #expect(successor == [next], "after kill -9 of host\(owner): advertised by \(successor), expected host\(next)")
            try await Task.sleep(for: .seconds(1))
            var after: Set<Int> = []
            for _ in 0..<3 { after.formUnion(try await lab.ndisc6(vip).compactMap(ClusterLab.host(owning:))) }
            #expect(after == [next], "\(vip) advertised by hosts \(after) after the move")
            #expect(try await Self.etcdOwners(lab)[unit] == order[1])
            let ping = try await lab.etcd.lab.exec(lab.client, "ping", ["-6", "-n", "-q", "-c", "3", "-i", "0.2", "-w", "5", unit], check: false)
            #expect(ping.output.contains(" 0% packet loss"), "ping -6 \(unit): \(ping.output)")
            Self.report("ipv6", "2001:db8::100 owned by host\(owner) (hashing), answered by it only; after kill -9 answered by host\(next) within \(String(format: "%.2f", movedAfter)) s (ndisc6 every 0.5 s)")
        }
    }
}
