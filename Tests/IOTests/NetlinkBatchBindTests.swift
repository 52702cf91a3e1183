import Foundation
import Glibc
import ProxyARPCore
import ProxyARPIO
import ProxyARPTestSupport
import Testing

/// Issue 11's soak: at load 40, hundreds of VIPs stayed `enqueued` for seconds while their
/// policy rules were installed one VIP at a time, each bind six netlink round trips (two of
/// them dumps of the agent's addresses and the main table, for the agent table check). A
/// batch reads each agent once: a VIP then costs only its rule changes.
@Suite("Netlink host: binds in a batch cost their rule changes, not six round trips each (root)", .serialized,
       .enabled(if: getuid() == 0))
struct NetlinkBatchBindTests {
    /// Lines of `ip -4 rule show` for a VIP rule (`from A.B.C.D lookup T`).
    static func vipRules(_ prefix: String, in lab: LabNamespace) async throws -> [Substring] {
        try await lab.ip("-4", "rule", "show").split(separator: "\n").filter { $0.contains("from \(prefix)") && $0.contains("lookup") }
    }

    static func index(of name: String, in lab: LabNamespace) async throws -> Int32 {
        Int32(try await lab.ip("-o", "link", "show", "dev", name).prefix(while: { $0 != ":" }))!
    }

    @Test("200 VIPs bound then moved: one per call costs 4 round trips per bind and 6 per move; a batch about 1 and 2, same rules")
    func batchCost() async throws {
        let lab = try await LabNamespace.make("nbb")
        defer { lab.destroy() }
        try await lab.addVeth("g0", peer: "v0", address: "198.18.90.10/24")
        try await lab.addVeth("g1", peer: "v1", address: "198.18.90.11/24")
        try await lab.ip("route", "add", "default", "via", "198.18.90.1", "dev", "g0")
        let host = try NetlinkHost(namespacePath: lab.path)
        let table1 = host.table(forInterfaceIndex: try await Self.index(of: "g1", in: lab))
        let count = 200
        let single = (0..<count).map { IPAddress.v4(IPv4Address(198, 18, 91, UInt8($0))) }
        let batched = (0..<count).map { IPAddress.v4(IPv4Address(198, 18, 92, UInt8($0))) }

        // One per call (what every bind did before; still the IPv6 and single-VIP path).
        var before = host.netlinkRequests
        for vip in single { try host.bindOutboundPath(of: vip, to: "g0", replacing: nil) }
        let singleBind = host.netlinkRequests - before
        before = host.netlinkRequests
        for vip in single { try host.bindOutboundPath(of: vip, to: "g1", replacing: "g0") }
        let singleMove = host.netlinkRequests - before
        // GETLINK, two dumps, NEWRULE (+ the guard rules once); a move adds GETLINK and DELRULE.
        #expect(singleBind >= 4 * count, "\(singleBind) round trips for \(count) binds")
        #expect(singleMove >= 6 * count, "\(singleMove) round trips for \(count) moves")

        // Batched: the agent's link and table once per batch, then the rule changes.
        before = host.netlinkRequests
        var errors = host.bindOutboundPaths(batched.map { OutboundPathBinding(vip: $0, agent: "g0", replacing: nil) })
        let batchBind = host.netlinkRequests - before
        #expect(errors.allSatisfy { $0 == nil }, "\(errors.compactMap { $0 })")
        before = host.netlinkRequests
        errors = host.bindOutboundPaths(batched.map { OutboundPathBinding(vip: $0, agent: "g1", replacing: "g0") })
        let batchMove = host.netlinkRequests - before
        #expect(errors.allSatisfy { $0 == nil }, "\(errors.compactMap { $0 })")
        // Per batch: GETLINK + 2 dumps for the agent (+ its table routes and the section's 3
        // rules when new), GETLINK for the replaced agent; per VIP: NEWRULE (+ DELRULE).
        #expect(batchBind <= count + 12, "\(batchBind) round trips for a batch of \(count) binds")
        #expect(batchMove <= 2 * count + 12, "\(batchMove) round trips for a batch of \(count) moves")

        // Same kernel state either way: one rule per VIP, into g1's table.
        for prefix in ["198.18.91.", "198.18.92."] {
            let rules = try await Self.vipRules(prefix, in: lab)
            #expect(rules.count == count, "\(prefix): \(rules.count) rules")
            #expect(rules.allSatisfy { $0.contains("lookup \(table1) ") }, "\(rules.prefix(3))")
        }
        _ = try host.cleanup()
    }

    @Test("A batch reports each binding's own error; the others are bound")
    func errorsPerBinding() async throws {
        let lab = try await LabNamespace.make("nbe")
        defer { lab.destroy() }
        try await lab.addVeth("k0", peer: "w0", address: "198.18.93.10/24")
        let host = try NetlinkHost(namespacePath: lab.path)
        let vips = (1...4).map { IPAddress.v4(IPv4Address(198, 18, 94, UInt8($0))) }
        let errors = host.bindOutboundPaths([
            OutboundPathBinding(vip: vips[0], agent: "k0", replacing: nil),
            OutboundPathBinding(vip: vips[1], agent: "nosuch0", replacing: nil),
            OutboundPathBinding(vip: vips[2], agent: "k0", replacing: "nosuch1"),  // the old agent is gone: fine
            OutboundPathBinding(vip: vips[3], agent: "nosuch0", replacing: nil),
        ])
        #expect(errors.map { $0?.code } == [nil, .noSuchDevice, nil, .noSuchDevice])
        let rules = try await Self.vipRules("198.18.94.", in: lab)
        #expect(rules.count == 2)
        #expect(rules.contains { $0.contains("from 198.18.94.1 ") } && rules.contains { $0.contains("from 198.18.94.3 ") })
        _ = try host.cleanup()
    }
}
