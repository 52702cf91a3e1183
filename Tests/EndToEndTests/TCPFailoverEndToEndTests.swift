import Foundation
import ProxyARPCore
import ProxyARPTestSupport
import Testing

/// A TCP connection from the client to a server on the host bound to a VIP keeps
/// exchanging data across a carrier loss of the VIP's agent. An echo reply (ICMP or
/// ICMPv6) leaves by the adapter its request came in on, so a ping across the event only
/// shows that the new agent answers; the server's own segments are routed from the VIP,
/// so data flowing after the cut shows that the VIP's outbound path moved off the dead
/// adapter too (on the old one, every segment would be lost until the connection died).
@Suite("End to end: TCP to a VIP across a carrier loss of its agent", .serialized, .enabled(if: endToEndEnabled))
struct TCPFailoverEndToEndTests {
    static let port: UInt16 = 7007

    @Test("IPv4 VIP: the connection keeps exchanging data, every message echoed intact and in order")
    func ipv4() async throws {
        let vip = IPv4Address(198, 18, 0, 100)
        try await DaemonLab.with("tcp4", vips: [vip.description]) { daemon in
            let answers = try await daemon.waitForAnswers([vip])
            let agent = try #require(answers[vip]?.first.flatMap { daemon.lab.adapter(owning: $0) }, "\(vip) never answered")
            try await Task.sleep(for: .seconds(3))  // announcement rounds done
            try await Self.streamAcrossCarrierLoss(daemon, server: LabSocketAddress(.v4(vip), port: Self.port), agent: agent) {
                try await daemon.lab.arping(vip, count: 1, timeoutSeconds: 1).first
            }
        }
    }

    @Test("IPv6 VIP: the connection keeps exchanging data, every message echoed intact and in order")
    func ipv6() async throws {
        let plan = IPv6LabPlan(site: 0x53)
        let vip = plan.vip(0)
        try await DaemonLab.with("tcp6", vips: [vip.description], prepare: { lab, _ in
            try await lab.enableIPv6(plan: plan)
        }) { daemon in
            let macs = try await daemon.lab.waitForAdvertisement(vip, attempts: 30)
            let agent = try #require(macs.first.flatMap { daemon.lab.adapter(owning: $0) }, "\(vip) never advertised")
            try await Task.sleep(for: .seconds(3))  // announcement rounds done
            try await Self.streamAcrossCarrierLoss(daemon, server: LabSocketAddress(.v6(vip), port: Self.port), agent: agent) {
                try await daemon.lab.ndisc6(vip, waitMilliseconds: 1000).first
            }
        }
    }

    /// Starts the echo server on `server` in the host namespace and a client streaming a
    /// message every 10 ms for 8 s; 2 s in, cuts the carrier of `agent`; checks the stream.
    /// `resolve` says which MAC answers for the VIP (after the event: not the old agent).
    static func streamAcrossCarrierLoss(
        _ daemon: DaemonLab, server address: LabSocketAddress, agent: HostLab.Adapter,
        resolve: () async throws -> MACAddress?
    ) async throws {
        let lab = daemon.lab
        let server = try await TCPEchoServer.start(in: lab.host, on: address)
        do {
            let stream = Task { try await TCPStreamClient.run(in: lab.client, to: address, sending: .seconds(8), drain: .seconds(10)) }
            try await Task.sleep(for: .seconds(2))
            let cutAt = TCPStreamClient.now()
            try await lab.cutCarrier(agent.name)
            let report = try await stream.value
            let accepted = server.acceptedConnections
            await server.stop()

            #expect(report.connected, "connected to \(address): \(report.error ?? "")")
            #expect(accepted == 1, "the server accepted \(accepted) connections")
            #expect(report.error == nil, "the connection failed: \(report.error ?? "")")
            #expect(report.mismatches == 0, "\(report.mismatches) echoes out of order or corrupted")
            let before = report.sent - report.messages(sentAfter: cutAt)
            let after = report.messages(sentAfter: cutAt)
            #expect(before > 0 && after > 0, "messages before / after the cut: \(before) / \(after)")
            #expect(report.echoedMessages(sentAfter: cutAt) == after, "echoed after the cut: \(report.echoedMessages(sentAfter: cutAt)) of \(after)")
            #expect(report.echoed == report.sent, "echoed \(report.echoed) of \(report.sent)")
            let silence = Double(report.longestSilence(after: cutAt)) / 1e6
            print("[e2e] TCP \(address) across carrier loss of \(agent.name): \(report.echoed)/\(report.sent) messages echoed, longest silence after the cut \(String(format: "%.1f", silence)) ms")

            let mac = try await resolve()
            #expect(mac != nil && mac != agent.mac, "after the cut the VIP is answered by \(mac.map(String.init(describing:)) ?? "nobody"), not by \(agent.name)")
        } catch {
            await server.stop()
            throw error
        }
    }
}
