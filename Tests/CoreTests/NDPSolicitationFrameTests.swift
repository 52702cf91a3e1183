import ProxyARPCore
import ProxyARPTestSupport
import Testing

/// The solicitations proxyarpd builds (the daemon's Duplicate Address Detection probe; the
/// lab generators' address resolutions for `proxyarpd-lab flood --family ndp` and the
/// bench's NDP ladder) against the kernel's own.
@Suite("Neighbor Solicitations built by NDPFrames")
struct NDPSolicitationFrameTests {
    @Test("A built solicitation is the kernel's, byte for byte (linux-arp-ndp.pcap frame 14), and parses as valid")
    func matchesTheKernel() throws {
        let kernel = try TestData.frame(14, of: TestData.linuxCapture)
        let built = NDPFrames.solicitation(
            from: Lab.hostA, source: IPv6Address("2001:db8::1")!, target: IPv6Address("2001:db8::2")!)
        #expect(built.count == NDPFrames.solicitationLength)
        #expect(built == kernel, "built \(built) vs kernel \(kernel)")
        guard case .ndp(let frame) = NDPParser.parse(built) else {
            Issue.record("the built solicitation does not parse as valid NDP: \(NDPParser.parse(built))")
            return
        }
        #expect(frame.message == .solicitation)
        #expect(frame.linkLayerAddress == Lab.hostA)
        #expect(frame.destination == IPv6Address("2001:db8::2")!.solicitedNodeGroup)
    }

    @Test("Another target: its own group and MAC, a checksum the parser verifies", arguments: ["2001:db8:be::100", "2001:db8:be::250", "2001:db8:be::1:86a0"])
    func otherTargets(target text: String) throws {
        let target = try #require(IPv6Address(text))
        let built = NDPFrames.solicitation(from: Lab.hostB, source: IPv6Address("2001:db8:be::1")!, target: target)
        guard case .ndp(let frame) = NDPParser.parse(built) else {
            Issue.record("\(text): \(NDPParser.parse(built))")
            return
        }
        #expect(frame.target == target)
        #expect(frame.ethernet.destination == target.solicitedNodeGroup.multicastMAC)
        var corrupted = built
        corrupted[corrupted.count - 1] ^= 1  // the last byte of the link-layer option
        #expect(NDPParser.parse(corrupted) == .malformed(.badChecksum), "a flipped bit fails the checksum")
    }

    @Test("A DAD probe is the kernel's, byte for byte, given the kernel's nonce (linux-ndp.pcap frames 3 and 5): from ::, no link-layer option", arguments: [3, 5])
    func duplicateAddressProbeMatchesTheKernel(frameNumber: Int) throws {
        let kernel = try TestData.frame(frameNumber, of: Fixtures.linuxNDPCapture)
        guard case .ndp(let parsed) = NDPParser.parse(kernel) else {
            Issue.record("frame \(frameNumber) does not parse: \(NDPParser.parse(kernel))")
            return
        }
        // The nonce option is the frame's last 8 bytes: type 14, length 1, six nonce bytes.
        #expect(Array(kernel[78..<80]) == [14, 1])
        let nonce = kernel[80..<86].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let built = NDPFrames.duplicateAddressProbe(mac: parsed.ethernet.source, vip: parsed.target, nonce: nonce)
        #expect(built == kernel, "built \(built) vs kernel \(kernel)")
        guard case .ndp(let probe) = NDPParser.parse(built) else {
            Issue.record("the built probe does not parse: \(NDPParser.parse(built))")
            return
        }
        #expect(probe.isDuplicateAddressProbe)
        #expect(probe.source == .unspecified)
        #expect(probe.linkLayerAddress == nil, "a DAD probe carries no source link-layer option")
        let other = NDPFrames.duplicateAddressProbe(mac: parsed.ethernet.source, vip: parsed.target, nonce: nonce ^ 1)
        #expect(other != kernel, "another nonce is another frame")
        #expect(NDPParser.parse(other) != .malformed(.badChecksum), "its checksum is recomputed")
    }
}
