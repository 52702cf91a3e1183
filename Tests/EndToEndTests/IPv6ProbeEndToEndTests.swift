import Foundation
import ProxyARPControl
import ProxyARPCore
import ProxyARPIO
import ProxyARPTestSupport
import Testing

/// The Duplicate Address Detection probe before an IPv6 VIP's first activation, against a
/// real kernel that holds the address: the client's own kernel answers the daemon's probe
/// (an advertisement to all-nodes), and the daemon never claims the VIP.
@Suite("end to end: an IPv6 VIP another host holds is probed and never claimed", .serialized, .enabled(if: endToEndEnabled, "needs root and the built proxyarpd"))
struct IPv6ProbeEndToEndTests {
    /// Held by the client's kernel before the daemon starts.
    static let taken = IPv6Address("2001:db8::150")!
    /// Free: the daemon serves it.
    static let free = IPv6Address("2001:db8::151")!

    @Test("the client's kernel holds one IPv6 VIP: the daemon's DAD probe is answered, that VIP stays in conflict, never on lo, never advertised; the free VIP is served")
    func takenAddressIsNotClaimed() async throws {
        var started: NDPCapture?
        try await DaemonLab.with(
            "e6p", vips: [Self.taken.description, Self.free.description],
            prepare: { lab, directory in
                try await lab.enableIPv6()
                // A real address of the client's kernel (no DAD needed: nobody holds it yet).
                try await lab.lab.ip(lab.client, "-6", "addr", "add", "\(Self.taken)/64", "dev", lab.clientDevice, "nodad")
                started = try await NDPCapture.start(lab, directory: directory, name: "probe")
            }
        ) { daemon in
            let capture = try #require(started)
            do {
                try await Self.check(daemon, capture: capture)
            } catch {
                await capture.stop()
                throw error
            }
            await capture.stop()
        }
    }

    /// What must hold once the daemon has settled; `capture` has run since before its start.
    static func check(_ daemon: DaemonLab, capture: NDPCapture) async throws {
        let lab = daemon.lab
        let settled = try await AdapterLifecycleEndToEndTests.status(of: daemon) { report in
            report.engine.vips.contains { $0.vip == .v6(Self.free) && $0.state == "active" }
                && report.engine.vips.contains { $0.vip == .v6(Self.taken) && $0.state == "conflict" }
        }
        let report = try #require(settled, "the free VIP never active or the taken one never in conflict")
        print("[e2e-ipv6-probe] taken: \(report.engine.vips.first { $0.vip == .v6(Self.taken) }.map { "\($0.state) \($0.detail)" } ?? "-")")
        let free = try #require(try await IPv6EndToEndTests.waitForAdvertisement(Self.free, in: lab).first)
        #expect(lab.adapter(owning: free) != nil, "the free VIP is answered by a host adapter: \(free)")
        // The taken one: still the client's; the host never put it on lo.
        let lo = try await lab.lab.ip(lab.host, "-6", "addr", "show", "dev", "lo").output
        #expect(!lo.contains("\(Self.taken)/128"), "lo: \(lo)")
        #expect(lo.contains("\(Self.free)/128"), "lo: \(lo)")
        let clientAddresses = try await lab.lab.ip(lab.client, "-6", "addr", "show", "dev", lab.clientDevice).output
        #expect(!clientAddresses.contains("dadfailed"), "the client kept its address: \(clientAddresses)")
        // On the wire since the start: the daemon's probe (from ::, a host MAC), the
        // client's defence, and no advertisement for the taken VIP from a host MAC.
        let frames = try await capture.ndpFrames()
        let probes = frames.filter { $0.isDuplicateAddressProbe && $0.target == Self.taken && lab.adapter(owning: $0.ethernet.source) != nil }
        #expect(!probes.isEmpty, "the daemon probed \(Self.taken)")
        let defences = frames.filter {
            $0.target == Self.taken && $0.ethernet.source == lab.clientMAC && $0.destination == .allNodes
                && $0.message == .advertisement(NDPAdvertisementFlags(solicited: false, override: true))
        }
        #expect(!defences.isEmpty, "the client's kernel defended \(Self.taken)")
        let ours = frames.filter {
            guard case .advertisement = $0.message else { return false }
            return $0.target == Self.taken && lab.adapter(owning: $0.ethernet.source) != nil
        }
        #expect(ours.isEmpty, "the daemon advertised the taken VIP: \(ours.count) advertisements")
    }
}

extension NDPCapture {
    /// Every Neighbor Discovery frame captured so far, solicitations and advertisements.
    func ndpFrames() async throws -> [NDPFrame] {
        try await Task.sleep(for: .milliseconds(200))
        return try CaptureFile(path: path).frames.compactMap { bytes in
            guard case .ndp(let frame) = NDPParser.parse(bytes) else { return nil }
            return frame
        }
    }
}
