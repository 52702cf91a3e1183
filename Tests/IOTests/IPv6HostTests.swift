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
