import Foundation
import Glibc
import ProxyARPCore
import ProxyARPIO
import ProxyARPTestSupport
import Testing

@Suite("Netlink host networking (root, in a network namespace)", .serialized, .enabled(if: getuid() == 0))
struct NetlinkHostTests {
    static func index(of name: String, in lab: LabNamespace) async throws -> Int32 {
        Int32(try await lab.ip("-o", "link", "show", "dev", name).prefix(while: { $0 != ":" }))!
    }

    /// The lines of `ip rule` that mention `from vip`.
    static func rules(from vip: String, in lab: LabNamespace) async throws -> [Substring] {
        try await lab.ip("-4", "rule", "show").split(separator: "\n").filter { $0.contains("from \(vip) ") }
    }

    @Test("prepare() sets arp_ignore, arp_announce, ignore_routes_with_linkdown in the namespace")
    func prepareSetsSysctls() async throws {
        let lab = try await LabNamespace.make()
        defer { lab.destroy() }
        try await lab.addVeth("c0", peer: "r0")
        let directory = "/proc/sys/net/ipv4/conf/c0"
        #expect(try await lab.read("\(directory)/arp_ignore") == "0")

        let host = try NetlinkHost(namespacePath: lab.path)
        try host.prepare(adapter: "c0")
        #expect(try await lab.read("\(directory)/arp_ignore") == "1")
        #expect(try await lab.read("\(directory)/arp_announce") == "2")
        #expect(try await lab.read("\(directory)/ignore_routes_with_linkdown") == "1")
        // The peer, which was not prepared, is untouched.
        #expect(try await lab.read("/proc/sys/net/ipv4/conf/r0/arp_ignore") == "0")

        // A caller branches on the cause, not on a message.
        #expect { try host.prepare(adapter: "nosuch0") } throws: { ($0 as? HostNetworkingError)?.code == .noSuchDevice }
        #expect { try host.prepare(adapter: "../all") } throws: { ($0 as? HostNetworkingError)?.code == .noSuchDevice }
    }

    @Test("addLocalAddress puts VIP/32 on lo, removeLocalAddress takes it away; both idempotent")
    func localAddress() async throws {
        let lab = try await LabNamespace.make()
        defer { lab.destroy() }
        let host = try NetlinkHost(namespacePath: lab.path)
        let vip = IPv4Address(198, 18, 20, 5)

        try host.addLocalAddress(vip)
        try host.addLocalAddress(vip)
        #expect(try await lab.ip("-4", "addr", "show", "dev", "lo").contains("inet 198.18.20.5/32"))
        // The root namespace is untouched.
        #expect(!(try await Command.run("ip", ["-4", "addr", "show", "dev", "lo"]).output.contains("198.18.20.5")))

        try host.removeLocalAddress(vip)
        try host.removeLocalAddress(vip)
        #expect(!(try await lab.ip("-4", "addr", "show", "dev", "lo").contains("198.18.20.5")))
    }

    @Test("bindOutboundPath: rule into the agent's table, make-before-break rebind, unbind, cleanup")
    func outboundPath() async throws {
        let lab = try await LabNamespace.make()
        defer { lab.destroy() }
        try await lab.addVeth("d0", peer: "s0", address: "198.18.30.10/24")
        try await lab.addVeth("d1", peer: "s1", address: "198.18.30.11/24")
        try await lab.ip("route", "add", "default", "via", "198.18.30.1", "dev", "d0")

        let host = try NetlinkHost(namespacePath: lab.path)
        let table0 = host.table(forInterfaceIndex: try await Self.index(of: "d0", in: lab))
        let table1 = host.table(forInterfaceIndex: try await Self.index(of: "d1", in: lab))
        let vip = IPv4Address(198, 18, 31, 5)
        try host.addLocalAddress(vip)

        try host.bindOutboundPath(of: vip, to: "d0", replacing: nil)
        try host.bindOutboundPath(of: vip, to: "d0", replacing: nil)  // idempotent
        var rules = try await Self.rules(from: "198.18.31.5", in: lab)
        #expect(rules.count == 1)
        #expect(rules.first?.hasPrefix("\(host.rulePriority):") == true)
        #expect(rules.first?.contains("lookup \(table0)") == true)
        let routes0 = try await lab.ip("-4", "route", "show", "table", "\(table0)")
        #expect(routes0.contains("198.18.30.0/24 dev d0 proto 154 scope link src 198.18.30.10"))
        #expect(routes0.contains("default via 198.18.30.1 dev d0 proto 154"))
        #expect(try await lab.ip("-4", "route", "get", "198.18.30.77", "from", "198.18.31.5").contains("dev d0"))

        // Failover to d1: exactly one rule remains, into d1's table.
        try host.bindOutboundPath(of: vip, to: "d1", replacing: "d0")
        rules = try await Self.rules(from: "198.18.31.5", in: lab)
        #expect(rules.count == 1)
        #expect(rules.first?.contains("lookup \(table1)") == true)
        let routes1 = try await lab.ip("-4", "route", "show", "table", "\(table1)")
        #expect(routes1.contains("198.18.30.0/24 dev d1 proto 154 scope link src 198.18.30.11"))
        // The main default route's gateway lies in d1's subnet too.
        #expect(routes1.contains("default via 198.18.30.1 dev d1"))
        #expect(try await lab.ip("-4", "route", "get", "198.18.30.77", "from", "198.18.31.5").contains("dev d1"))

        // A second VIP shares the priority and table; it is told apart by its source.
        let other = IPv4Address(198, 18, 31, 6)
        try host.bindOutboundPath(of: other, to: "d1", replacing: nil)
        #expect(try await Self.rules(from: "198.18.31.6", in: lab).count == 1)

        try host.unbindOutboundPath(of: vip, from: "d1")
        try host.unbindOutboundPath(of: vip, from: "d1")  // idempotent
        #expect(try await Self.rules(from: "198.18.31.5", in: lab).isEmpty)
        #expect(try await Self.rules(from: "198.18.31.6", in: lab).count == 1)

        // d0 changes subnet and the main default route goes: the next bind prunes table0.
        try await lab.ip("route", "del", "default")
        try await lab.ip("addr", "del", "198.18.30.10/24", "dev", "d0")
        try await lab.ip("addr", "add", "198.18.32.10/24", "dev", "d0")
        try host.bindOutboundPath(of: IPv4Address(198, 18, 31, 7), to: "d0", replacing: nil)
        #expect(try await lab.ip("-4", "route", "show", "table", "\(table0)")
            == "198.18.32.0/24 dev d0 proto 154 scope link src 198.18.32.10 \n")
        try await lab.ip("route", "add", "default", "via", "198.18.30.1", "dev", "d1")
        try host.unbindOutboundPath(of: IPv4Address(198, 18, 31, 7), from: "d0")

        // Cleanup removes the remaining rule and every route in our tables, nothing else.
        try host.bindOutboundPath(of: vip, to: "d0", replacing: nil)
        let removed = try host.cleanup()
        #expect(removed.rules == 7)  // 2 VIP rules; the end nop, the skip; 198.18.16.0/20's guard, anchor, exit
        #expect(removed.routes == 3)  // table0: 198.18.32.0/24; table1: 198.18.30.0/24 and default
        #expect(try await Self.rules(from: "198.18.31.5", in: lab).isEmpty)
        #expect(try await Self.rules(from: "198.18.31.6", in: lab).isEmpty)
        #expect(try await lab.ip("-4", "route", "show", "table", "\(table0)").isEmpty)
        #expect(try await lab.ip("-4", "route", "show", "table", "\(table1)").isEmpty)
        #expect(try await lab.ip("-4", "route", "show").contains("default via 198.18.30.1 dev d1"))
        #expect(try await lab.ip("-4", "rule", "show").contains("lookup main"))
    }

    @Test("Rebinding after the old agent vanished still leaves one rule")
    func oldAgentGone() async throws {
        let lab = try await LabNamespace.make()
        defer { lab.destroy() }
        try await lab.addVeth("e0", peer: "t0", address: "198.18.40.10/24")
        try await lab.addVeth("e1", peer: "t1", address: "198.18.41.10/24")
        let host = try NetlinkHost(namespacePath: lab.path)
        let vip = IPv4Address(198, 18, 42, 5)

        try host.bindOutboundPath(of: vip, to: "e0", replacing: nil)
        try await lab.ip("link", "del", "e0")
        try host.bindOutboundPath(of: vip, to: "e1", replacing: "e0")
        let rules = try await Self.rules(from: "198.18.42.5", in: lab)
        #expect(rules.count == 1)
        #expect(rules.first?.contains("lookup \(host.table(forInterfaceIndex: try await Self.index(of: "e1", in: lab)))") == true)

        #expect { try host.bindOutboundPath(of: vip, to: "nosuch0", replacing: nil) } throws: {
            ($0 as? HostNetworkingError)?.code == .noSuchDevice
        }
    }

    @Test("Blocks of /26: one local route and one rule per bound block; a moved VIP is one more specific rule")
    func blockBindings() async throws {
        let lab = try await LabNamespace.make()
        defer { lab.destroy() }
        try await lab.addVeth("f0", peer: "u0", address: "198.18.50.10/24")
        try await lab.addVeth("f1", peer: "u1", address: "198.18.50.11/24")
        let host = try NetlinkHost(namespacePath: lab.path, blockPrefixLength: 26)
        let table0 = host.table(forInterfaceIndex: try await Self.index(of: "f0", in: lab))
        let table1 = host.table(forInterfaceIndex: try await Self.index(of: "f1", in: lab))
        let vips = (0..<64).map { IPv4Address(198, 18, 64, UInt8($0)) }

        for vip in vips {
            try host.addLocalAddress(vip)
            try host.bindOutboundPath(of: vip, to: "f0", replacing: nil)
        }
        // Local through one `local` route (no addresses on lo), reachable as a local address.
        let local = try await lab.ip("-4", "route", "show", "table", "local", "proto", "154")
        #expect(local == "local 198.18.64.0/26 dev lo scope host \n")
        #expect(!(try await lab.ip("-4", "addr", "show", "dev", "lo").contains("198.18.64.")))
        #expect(try await lab.ip("-4", "route", "get", "198.18.64.33").hasPrefix("local 198.18.64.33 dev lo"))
        #expect(try await lab.exec("ping", ["-c", "1", "-W", "1", "198.18.64.33"])
            .contains("1 received"))
        var rules = try await lab.ip("-4", "rule", "show").split(separator: "\n").filter { $0.contains("198.18.64.") && !$0.contains("goto") }
        #expect(rules.count == 1)
        #expect(rules.first?.contains("from 198.18.64.0/26 lookup \(table0)") == true)

        #expect(rules.first?.hasPrefix("\(host.rulePriority + 6):") == true)

        // One VIP fails over to f1: a /32 rule for it, tried before the block's /26.
        try host.bindOutboundPath(of: vips[63], to: "f1", replacing: "f0")
        rules = try await lab.ip("-4", "rule", "show").split(separator: "\n").filter { $0.contains("198.18.64.") && !$0.contains("goto") }
        #expect(rules.count == 2)
        #expect(rules.first?.hasPrefix("\(host.rulePriority):\tfrom 198.18.64.63 lookup \(table1)") == true)
        #expect(try await lab.ip("-4", "route", "get", "198.18.50.77", "from", "198.18.64.63").contains("dev f1"))
        #expect(try await lab.ip("-4", "route", "get", "198.18.50.77", "from", "198.18.64.62").contains("dev f0"))

        // A VIP in another /20 gets a section of its own, after the first.
        let far = IPv4Address(198, 18, 96, 7)
        try host.addLocalAddress(far)
        try host.bindOutboundPath(of: far, to: "f1", replacing: nil)
        let p2 = host.rulePriority + 36
        #expect(try await lab.ip("-4", "rule", "show").contains("\(p2):\tfrom 198.18.96.7 lookup \(table1)"))
        #expect(try await lab.ip("-4", "rule", "show").contains("\(host.rulePriority - 10):\tfrom 198.18.96.0/20 goto \(p2)"))
        #expect(try await lab.ip("-4", "route", "get", "198.18.50.77", "from", "198.18.96.7").contains("dev f1"))
        #expect(try await lab.ip("-4", "route", "get", "198.18.50.77", "from", "198.18.64.62").contains("dev f0"))
        try host.unbindOutboundPath(of: far, from: "f1")
        try host.removeLocalAddress(far)

        // The guard: only traffic from the VIPs' /20s walks the VIP rules; the rest skips them.
        let all = try await lab.ip("-4", "rule", "show")
        let p = host.rulePriority
        #expect(all.contains("\(p - 10):\tfrom 198.18.64.0/20 goto \(p) proto 154"), "\(all)")
        #expect(all.contains("\(p - 1):\tfrom all goto \(host.endPriority) proto 154"), "\(all)")
        #expect(all.contains("\(p):\tfrom all nop proto 154") && all.contains("\(p + 33):\tfrom all goto \(host.endPriority) proto 154"), "\(all)")
        #expect(all.contains("\(host.endPriority):\tfrom all nop proto 154"), "\(all)")
        // A rule in our range (not ours) for a source outside the guarded /20, into a table
        // with a route that main lacks: skipped, so main decides.
        try await lab.ip("addr", "add", "192.0.2.10/24", "dev", "f0")
        try await lab.ip("route", "add", "192.0.2.0/24", "dev", "f1", "table", "\(table1)")
        try await lab.ip("rule", "add", "pref", "\(p + 6)", "from", "192.0.2.10", "lookup", "\(table1)")
        #expect(try await lab.ip("-4", "route", "get", "192.0.2.77", "from", "192.0.2.10").contains("dev f0"),
                "traffic from outside the guarded /20s skips the VIP range")
        try await lab.ip("rule", "del", "pref", "\(p + 6)", "from", "192.0.2.10", "lookup", "\(table1)")
        try await lab.ip("route", "del", "192.0.2.0/24", "dev", "f1", "table", "\(table1)")

        // Cleanup finds rules at every priority of ours; binding again restores them.
        #expect(try host.cleanup().rules == 10)  // 2 VIP rules, end, skip, 2 × (guard, anchor, exit)
        #expect(!(try await lab.ip("-4", "rule", "show").contains("198.18.64.")))
        for vip in vips { try host.bindOutboundPath(of: vip, to: "f0", replacing: nil) }
        try host.bindOutboundPath(of: vips[63], to: "f1", replacing: "f0")

        // Withdrawing one VIP: it is no longer local, its neighbours still are.
        try host.unbindOutboundPath(of: vips[0], from: "f0")
        try host.removeLocalAddress(vips[0])
        #expect(!((try? await lab.ip("-4", "route", "get", "198.18.64.0")) ?? "unreachable").hasPrefix("local"))
        #expect(try await lab.ip("-4", "route", "get", "198.18.64.1").hasPrefix("local"))

        // Everything withdrawn: no rule and no local route of ours is left.
        for vip in vips {
            try host.unbindOutboundPath(of: vip, from: "f0")
            try host.removeLocalAddress(vip)
        }
        #expect(try await lab.ip("-4", "route", "show", "table", "local", "proto", "154").isEmpty)
        #expect(!(try await lab.ip("-4", "rule", "show").split(separator: "\n").contains { $0.contains("198.18.64.") && $0.contains("lookup") }))
    }
}
