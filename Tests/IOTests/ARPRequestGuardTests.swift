import Foundation
import Glibc
import ProxyARPCore
import ProxyARPIO
import ProxyARPTestSupport
import Testing

/// The tc ingress ARP guard on a real veth pair: the kernel stops answering requests for
/// the guarded range while a packet tap on the same adapter still sees them.
@Suite("tc ARP request guard (root, network namespaces)", .serialized, .enabled(if: getuid() == 0))
struct ARPRequestGuardTests {
    static func replies(_ lab: NetnsLab, from namespace: String, to address: String) async throws -> Int {
        let output = try await lab.exec(namespace, "arping", ["-c", "2", "-w", "2", "-I", "va", address], check: false).output
        return output.split(separator: "\n").filter { $0.contains("Unicast reply") }.count
    }

    static func program(_ addresses: String...) -> ARPRequestDropProgram {
        ARPRequestDropProgram(ranges: addresses.map { IPv4Address($0)!.rawValue...IPv4Address($0)!.rawValue })!
    }

    @Test("Guarded requests go unanswered but are tapped; others answered; replace and remove")
    func guardsRange() async throws {
        let lab = NetnsLab(prefix: NetnsLab.uniquePrefix("tcg"))
        defer { lab.destroy() }
        let requester = try await lab.addNamespace("a")
        let responder = try await lab.addNamespace("b")
        _ = try await Command.run("ip", ["-n", requester, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", responder])
        try await lab.ip(requester, "addr", "add", "198.18.7.1/24", "dev", "va")
        try await lab.ip(responder, "addr", "add", "198.18.7.2/24", "dev", "vb")
        try await lab.ip(responder, "addr", "add", "198.18.7.3/24", "dev", "vb")
        try await lab.ip(requester, "link", "set", "va", "up")
        try await lab.ip(responder, "link", "set", "vb", "up")
        #expect(try await Self.replies(lab, from: requester, to: "198.18.7.2") >= 1)

        var socket = try ARPRequestGuard.socket(namespacePath: NetnsLab.path(of: responder))
        try ARPRequestGuard.install(Self.program("198.18.7.2"), interfaceNamed: "vb", socket: &socket)
        let shown = try await lab.exec(responder, "tc", ["filter", "show", "dev", "vb", "ingress"]).output
        #expect(shown.contains(ARPRequestGuard.name) && shown.contains("direct-action"))

        // Guarded: no reply, but tcpdump (an ETH_P_ALL tap, like pcap) sees the requests.
        async let tapped = lab.exec(responder, "timeout", ["4", "tcpdump", "-i", "vb", "-n", "-l", "-c", "2", "arp and arp[6:2] = 1"], check: false)
        try await Task.sleep(for: .milliseconds(700))
        #expect(try await Self.replies(lab, from: requester, to: "198.18.7.2") == 0)
        let seen = try await tapped.output
        #expect(seen.split(separator: "\n").filter { $0.contains("who-has 198.18.7.2") }.count == 2, "\(seen)")
        #expect(try await Self.replies(lab, from: requester, to: "198.18.7.3") >= 1)

        // Replaced in place: one filter, now guarding .3 instead.
        try ARPRequestGuard.install(Self.program("198.18.7.3"), interfaceNamed: "vb", socket: &socket)
        let replaced = try await lab.exec(responder, "tc", ["filter", "show", "dev", "vb", "ingress"]).output
        #expect(replaced.split(separator: "\n").filter { $0.contains(ARPRequestGuard.name) }.count == 1)
        #expect(try await Self.replies(lab, from: requester, to: "198.18.7.2") >= 1)
        #expect(try await Self.replies(lab, from: requester, to: "198.18.7.3") == 0)

        try ARPRequestGuard.remove(interfaceNamed: "vb", socket: &socket)
        try ARPRequestGuard.remove(interfaceNamed: "vb", socket: &socket)
        #expect(!(try await lab.exec(responder, "tc", ["filter", "show", "dev", "vb", "ingress"]).output.contains(ARPRequestGuard.name)))
        #expect(try await Self.replies(lab, from: requester, to: "198.18.7.3") >= 1)
    }
}
