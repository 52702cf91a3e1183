import Foundation
import Glibc
import ProxyARPCore
import ProxyARPIO
import ProxyARPTestSupport
import Testing

/// A second `NetlinkHost` in the same namespace is a restarted daemon: what the first left
/// is read back by its marks and reconciled (issue 11, item 3).
@Suite("Netlink host: reconcile at start, restore at exit (root, in a network namespace)", .serialized, .enabled(if: getuid() == 0))
struct NetlinkHostReconcileTests {
    /// `ip rule` lines with a `lookup` from `vip`.
    static func lookups(from vip: String, in lab: LabNamespace) async throws -> [Substring] {
        try await lab.ip("-4", "rule", "show").split(separator: "\n").filter { $0.contains("from \(vip) ") && $0.contains("lookup") }
    }

    /// `ip rule` lines at proxyarpd's priorities (990 ... 32700).
    static func ourRules(in lab: LabNamespace) async throws -> [Substring] {
        try await lab.ip("-4", "rule", "show").split(separator: "\n").filter { line in
            guard let priority = UInt32(line.prefix { $0 != ":" }) else { return false }
            return (990...32_700).contains(priority)
        }
    }

    @Test("Restart: rules of unconfigured VIPs, duplicates and adapters gone are removed; kept VIPs report their agent; lo marked; SIGTERM cleanup removes what an earlier instance left")
    func reconcileAfterRestart() async throws {
        let lab = try await LabNamespace.make("rcn")
        defer { lab.destroy() }
        try await lab.addVeth("f0", peer: "u0", address: "198.18.50.10/24")
        try await lab.addVeth("f1", peer: "u1", address: "198.18.50.11/24")
        try await lab.addVeth("f2", peer: "u2", address: "198.18.50.12/24")
        let vips = (1...4).map { IPv4Address(198, 18, 51, UInt8($0)) }

        // The first instance: every VIP local, 1 and 2 on f0, 3 on f1, 4 on f2; then "kill -9".
        let first = try NetlinkHost(namespacePath: lab.path)
        for vip in vips { try first.addLocalAddress(vip) }
        try first.bindOutboundPath(of: vips[0], to: "f0", replacing: nil)
        try first.bindOutboundPath(of: vips[1], to: "f0", replacing: nil)
        try first.bindOutboundPath(of: vips[2], to: "f1", replacing: nil)
        try first.bindOutboundPath(of: vips[3], to: "f2", replacing: nil)
        // An operator's address on lo carries no IFA_PROTO mark: reconcile and cleanup leave it.
        // (iproute2 6.1 can neither set nor show an address protocol; the daemon's reads tell.)
        try await lab.ip("addr", "add", "198.18.51.9/32", "dev", "lo")
        let tableF1 = first.table(forInterfaceIndex: try await NetlinkHostTests.index(of: "f1", in: lab))
        // A duplicate for VIP 2 behind its rule (as a crashed rebind would leave), and f2 goes away.
        try await lab.ip("rule", "add", "from", "198.18.51.2", "lookup", "\(tableF1)", "pref", "\(first.rulePriority)", "proto", "154")
        #expect(try await Self.lookups(from: "198.18.51.2", in: lab).count == 2)
        try await lab.ip("link", "del", "f2")

        // The restart: VIPs 1..3 configured (4 removed), adapters f0, f1, f2.
        let second = try NetlinkHost(namespacePath: lab.path)
        let found = try second.reconcile(vips: AddressSet(vips.prefix(3)), adapters: ["f0", "f1", "f2"])
        #expect(found.previousAgents == [.v4(vips[0]): "f0", .v4(vips[1]): "f0", .v4(vips[2]): "f1"])
        #expect(found.removedRules == 2, "VIP 4's rule (VIP and adapter gone) and VIP 2's duplicate: \(found)")
        #expect(found.removedLocal == 1)
        for vip in ["198.18.51.1", "198.18.51.2", "198.18.51.3"] {
            #expect(try await Self.lookups(from: vip, in: lab).count == 1, "\(vip)")
        }
        #expect(try await Self.lookups(from: "198.18.51.4", in: lab).isEmpty)
        let lo = try await lab.ip("-4", "addr", "show", "dev", "lo")
        #expect(!lo.contains("198.18.51.4/32") && lo.contains("198.18.51.1/32"), "\(lo)")
        // Exactly what a clean start binding VIPs 1..3 would hold: 3 VIP rules, end, skip, guard, anchor, exit.
        let kept = try await Self.ourRules(in: lab)
        #expect(kept.count == 8, "\(kept)")

        // A bind replaces the VIP's adopted rule (the engine never saw it): one rule, the new one.
        try second.bindOutboundPath(of: vips[0], to: "f1", replacing: nil)
        let moved = try await Self.lookups(from: "198.18.51.1", in: lab)
        #expect(moved.count == 1 && moved.first?.contains("lookup \(tableF1)") == true, "\(moved)")
        #expect(try await lab.ip("-4", "route", "get", "198.18.50.77", "from", "198.18.51.1").contains("dev f1"))
        // Same agent: the rule stays as it is.
        try second.bindOutboundPath(of: vips[2], to: "f1", replacing: nil)
        #expect(try await Self.lookups(from: "198.18.51.3", in: lab).count == 1)

        // SIGTERM of the second instance with VIPs 1..3 never made local by it: everything goes.
        let removed = try second.cleanup(removingLocal: true)
        #expect(removed.local == 3)
        #expect(try await Self.ourRules(in: lab).isEmpty)
        let left = try await lab.ip("-4", "addr", "show", "dev", "lo")
        #expect(!left.contains("198.18.51.1/") && !left.contains("198.18.51.2/") && !left.contains("198.18.51.3/"), "\(left)")
        #expect(left.contains("198.18.51.9/32"), "the unmarked address stays: \(left)")
        #expect(try await lab.ip("-4", "route", "show", "table", "all", "proto", "154").isEmpty)
    }

    @Test("Block mode: a local route that made a VIP no longer configured local is replaced by one covering only the configured VIPs")
    func reconcileBlockLocalRoutes() async throws {
        let lab = try await LabNamespace.make("rcb")
        defer { lab.destroy() }
        try await lab.addVeth("g0", peer: "v0", address: "198.18.60.10/24")
        let first = try NetlinkHost(namespacePath: lab.path, blockPrefixLength: 26)
        let vips = (0..<4).map { IPv4Address(198, 18, 61, UInt8($0)) }
        for vip in vips {
            try first.addLocalAddress(vip)
            try first.bindOutboundPath(of: vip, to: "g0", replacing: nil)
        }
        #expect(try await lab.ip("-4", "route", "show", "table", "local", "proto", "154").contains("local 198.18.61.0/30 dev lo"))

        let second = try NetlinkHost(namespacePath: lab.path, blockPrefixLength: 26)
        let found = try second.reconcile(vips: AddressSet(vips.prefix(2)), adapters: ["g0"])
        #expect(found.previousAgents.count == 2)
        let local = try await lab.ip("-4", "route", "show", "table", "local", "proto", "154")
        #expect(!local.contains("198.18.61.0/30"), "the /30 made the removed VIPs 2 and 3 local: \(local)")
        #expect(local.contains("local 198.18.61.0/31 dev lo"), "VIPs 0 and 1 stay local throughout: \(local)")
        // The engine's re-activation changes nothing; its withdrawals remove the adopted route.
        try second.addLocalAddress(vips[0])
        try second.addLocalAddress(vips[1])
        #expect(try await lab.ip("-4", "route", "show", "table", "local", "proto", "154").contains("local 198.18.61.0/31 dev lo"))
        try second.removeLocalAddress(vips[0])
        try second.removeLocalAddress(vips[1])
        #expect(try await lab.ip("-4", "route", "show", "table", "local", "proto", "154").isEmpty)
        try second.cleanup(removingLocal: true)
        #expect(try await lab.ip("-4", "route", "show", "table", "all", "proto", "154").isEmpty)
    }

    @Test("restoreAdapterSysctls writes back the values found before the first prepare")
    func sysctlsRestored() async throws {
        let lab = try await LabNamespace.make("rsy")
        defer { lab.destroy() }
        try await lab.addVeth("k0", peer: "w0")
        let directory = "/proc/sys/net/ipv4/conf/k0"
        _ = try await lab.exec("sh", ["-c", "echo 1 > \(directory)/arp_announce"])
        let host = try NetlinkHost(namespacePath: lab.path)
        try host.prepare(adapter: "k0")
        try host.prepare(adapter: "k0")  // a second prepare does not take our values for the originals
        #expect(try await lab.read("\(directory)/arp_announce") == "2")
        #expect(try host.restoreAdapterSysctls() == 4, "three IPv4 sysctls and IPv6 ignore_routes_with_linkdown")
        #expect(try await lab.read("\(directory)/arp_ignore") == "0")
        #expect(try await lab.read("\(directory)/arp_announce") == "1")
        #expect(try await lab.read("\(directory)/ignore_routes_with_linkdown") == "0")
        #expect(try await lab.read("/proc/sys/net/ipv6/conf/k0/ignore_routes_with_linkdown") == "0")
    }
}
