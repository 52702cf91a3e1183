import ProxyARPCore
import ProxyARPTestSupport
import Testing

/// The lab generators' solicitations (`proxyarpd-lab flood --family ndp`, the bench's NDP
/// ladder) against the kernel's own.
@Suite("Lab Neighbor Solicitations")
struct NeighborSolicitationFrameTests {
    @Test("A built solicitation is the kernel's, byte for byte (linux-arp-ndp.pcap frame 14), and parses as valid")
    func matchesTheKernel() throws {
        let kernel = try TestData.frame(14, of: TestData.linuxCapture)
        let built = NeighborSolicitationFrame.bytes(
            from: Lab.hostA, source: IPv6Address("2001:db8::1")!, target: IPv6Address("2001:db8::2")!)
        #expect(built.count == NeighborSolicitationFrame.length)
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
        let built = NeighborSolicitationFrame.bytes(from: Lab.hostB, source: IPv6Address("2001:db8:be::1")!, target: target)
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
}
