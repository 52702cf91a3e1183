import Foundation
import Glibc
import ProxyARPCore
import ProxyARPIO
import ProxyARPTestSupport
import Testing

@Suite("IPv6 host side (root, in a network namespace)", .serialized, .enabled(if: getuid() == 0))
struct IPv6HostTests {
    @Test("addLocalAddress puts an IPv6 VIP on lo as /128 without DAD, removeLocalAddress takes it away; both idempotent")
    func localAddress() async throws {
        let lab = try await LabNamespace.make()
        defer { lab.destroy() }
        _ = try await lab.ip("link", "set", "lo", "up")
        let host = try NetlinkHost(namespacePath: lab.path)
        let vip = try #require(IPv6Address("2001:db8:20::5"))

        try host.addLocalAddress(vip)
        try host.addLocalAddress(vip)
        let shown = try await lab.ip("-6", "addr", "show", "dev", "lo")
        #expect(shown.contains("inet6 2001:db8:20::5/128"), "\(shown)")
        #expect(shown.contains("nodad"), "\(shown)")
        #expect(!shown.contains("tentative"), "\(shown)")
        #expect(!(try await Command.run("ip", ["-6", "addr", "show", "dev", "lo"]).output.contains("2001:db8:20::5")))

        try host.removeLocalAddress(vip)
        try host.removeLocalAddress(vip)
        #expect(!(try await lab.ip("-6", "addr", "show", "dev", "lo").contains("2001:db8:20::5")))
    }

    @Test("Solicited-node groups: one membership per distinct group and adapter, joined at the first VIP, left at the last")
    func solicitedNodeGroups() async throws {
        let lab = try await LabNamespace.make()
        defer { lab.destroy() }
        try await lab.addVeth("c0", peer: "r0")
        let index = UInt32(try await lab.ip("-o", "link", "show", "dev", "c0").prefix(while: { $0 != ":" }))!
        func groups() async throws -> String { try await lab.ip("-6", "maddr", "show", "dev", "c0") }

        let memberships = try SolicitedNodeMemberships(namespacePath: lab.path)
        // Same low 24 bits: one group, ff02::1:ff12:3456.
        let first = try #require(IPv6Address("2001:db8:1::12:3456"))
        let second = try #require(IPv6Address("2001:db8:2::ab12:3456"))
        let other = try #require(IPv6Address("2001:db8:1::99"))
        #expect(try memberships.join(for: first, interfaceIndex: index))
        #expect(!(try memberships.join(for: second, interfaceIndex: index)))
        #expect(try memberships.join(for: other, interfaceIndex: index))
        #expect(memberships.joinedCount == 2)
        var shown = try await groups()
        #expect(shown.components(separatedBy: "ff02::1:ff12:3456").count - 1 == 1, "\(shown)")
        #expect(shown.contains("ff02::1:ff00:99"), "\(shown)")

        #expect(!(try memberships.leave(for: first, interfaceIndex: index)))
        shown = try await groups()
        #expect(shown.contains("ff02::1:ff12:3456"), "still used by the second VIP: \(shown)")
        #expect(try memberships.leave(for: second, interfaceIndex: index))
        #expect(try memberships.leave(for: other, interfaceIndex: index))
        #expect(!(try memberships.leave(for: other, interfaceIndex: index)))
        shown = try await groups()
        #expect(!shown.contains("ff02::1:ff12:3456") && !shown.contains("ff02::1:ff00:99"), "\(shown)")
        #expect(memberships.joinedCount == 0)
    }
}

@Suite("IPv6 adapter prefixes (root, in a network namespace)", .serialized, .enabled(if: getuid() == 0))
struct IPv6AdapterPrefixTests {
    @Test("ipv6Prefixes lists the kernel's global prefixes of the adapter, not link-local, tentative or another adapter's")
    func prefixes() async throws {
        let lab = try await LabNamespace.make()
        defer { lab.destroy() }
        try await lab.addVeth("c0", peer: "r0")
        _ = try await lab.ip("-6", "addr", "add", "2001:db8:5::10/64", "dev", "c0", "nodad")
        _ = try await lab.ip("-6", "addr", "add", "2001:db8:6::10/120", "dev", "c0", "nodad")
        _ = try await lab.ip("-6", "addr", "add", "2001:db8:7::10/64", "dev", "r0", "nodad")
        let host = try NetlinkHost(namespacePath: lab.path)
        let prefixes = try host.ipv6Prefixes(of: "c0")
        #expect(Set(prefixes.map(\.description)) == ["2001:db8:5::10/64", "2001:db8:6::10/120"], "\(prefixes)")
        #expect(prefixes.contains { $0.contains(IPv6Address("2001:db8:5::abcd")!) })
        #expect(!prefixes.contains { $0.contains(IPv6Address("2001:db8:6::1:0")!) })  // outside the /120
        #expect(try host.ipv6Prefixes(of: "r0").map(\.description) == ["2001:db8:7::10/64"])
    }
}

@Suite("IPv6 outbound path (root, in a network namespace)", .serialized, .enabled(if: getuid() == 0))
struct IPv6OutboundPathTests {
    @Test("bind: rule from VIP/128 into the agent's table, the agent's IPv6 prefix routed there, the group joined; a move adds before it deletes and moves the group; unbind and cleanup leave nothing")
    func bindMoveUnbind() async throws {
        let lab = try await LabNamespace.make("nl6")
        defer { lab.destroy() }
        try await lab.addVeth("c0", peer: "r0")
        _ = try await lab.exec("sysctl", ["-qw", "net.ipv6.conf.all.disable_ipv6=0"])
        _ = try await lab.ip("-6", "addr", "add", "2001:db8:5::10/64", "dev", "c0", "nodad")
        _ = try await lab.ip("-6", "addr", "add", "2001:db8:6::10/64", "dev", "r0", "nodad")
        let host = try NetlinkHost(namespacePath: lab.path)
        let vip = IPAddress("2001:db8:5::100")!
        let group = "ff02::1:ff00:100"
        func index(_ name: String) async throws -> UInt32 {
            UInt32(try await lab.ip("-o", "link", "show", "dev", name).prefix(while: { $0 != ":" }))!
        }
        let tableC = host.table(forInterfaceIndex: Int32(try await index("c0")))
        let tableR = host.table(forInterfaceIndex: Int32(try await index("r0")))

        try host.prepare(adapter: "c0")
        #expect(try await lab.read("/proc/sys/net/ipv6/conf/c0/ignore_routes_with_linkdown") == "1")

        try host.addLocalAddress(vip)
        try host.bindOutboundPath(of: vip, to: "c0", replacing: nil)
        var rules = try await lab.ip("-6", "rule", "show")
        #expect(rules.contains("from 2001:db8:5::100 lookup \(tableC)"), "\(rules)")
        #expect(try await lab.ip("-6", "route", "show", "table", "\(tableC)").contains("2001:db8:5::/64 dev c0"))
        #expect(try await lab.ip("-6", "maddr", "show", "dev", "c0").contains(group))
        #expect(host.joinedSolicitedNodeGroups == 1)
        let route = try await lab.ip("-6", "route", "get", "2001:db8:5::1", "from", "2001:db8:5::100")
        #expect(route.contains("dev c0") && route.contains("table \(tableC)"), "\(route)")
        try host.bindOutboundPath(of: vip, to: "c0", replacing: nil)  // again: nothing doubles
        rules = try await lab.ip("-6", "rule", "show")
        #expect(rules.components(separatedBy: "from 2001:db8:5::100 ").count - 1 == 1, "\(rules)")

        try host.bindOutboundPath(of: vip, to: "r0", replacing: "c0")
        rules = try await lab.ip("-6", "rule", "show")
        #expect(rules.contains("from 2001:db8:5::100 lookup \(tableR)") && !rules.contains("lookup \(tableC)"), "\(rules)")
        #expect(try await lab.ip("-6", "route", "show", "table", "\(tableR)").contains("2001:db8:6::/64 dev r0"))
        #expect(try await lab.ip("-6", "maddr", "show", "dev", "r0").contains(group))
        #expect(!(try await lab.ip("-6", "maddr", "show", "dev", "c0").contains(group)))

        try host.unbindOutboundPath(of: vip, from: "r0")
        #expect(!(try await lab.ip("-6", "rule", "show").contains("2001:db8:5::100")))
        #expect(!(try await lab.ip("-6", "maddr", "show", "dev", "r0").contains(group)))
        #expect(host.joinedSolicitedNodeGroups == 0)

        let removed = try host.cleanup(removingLocal: true)
        #expect(removed.routes >= 2 && removed.local == 1, "\(removed)")
        #expect(try await lab.ip("-6", "route", "show", "table", "\(tableC)").isEmpty)
        #expect(!(try await lab.ip("-6", "addr", "show", "dev", "lo").contains("2001:db8:5::100")))
        #expect(try host.restoreAdapterSysctls() == 4)
        #expect(try await lab.read("/proc/sys/net/ipv6/conf/c0/ignore_routes_with_linkdown") == "0")
    }
}
