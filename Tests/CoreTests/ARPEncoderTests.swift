import ProxyARPCore
import ProxyARPTestSupport
import Testing

extension RandomNumberGenerator {
    mutating func mac() -> MACAddress { MACAddress(rawValue: next()) }
    /// A random address other than 0.0.0.0 (a gratuitous request for 0.0.0.0 would be a probe).
    mutating func nonZeroIPv4() -> IPv4Address { IPv4Address(rawValue: UInt32.random(in: 1...UInt32.max, using: &self)) }
    mutating func tags() -> VLANTags {
        func tag(_ rng: inout Self) -> VLANTag {
            VLANTag(tpid: Bool.random(using: &rng) ? EtherType.vlan : EtherType.serviceVLAN, tci: UInt16.random(in: 0...UInt16.max, using: &rng))
        }
        switch Int.random(in: 0...2, using: &self) {
        case 0: return VLANTags()
        case 1: return VLANTags(tag(&self))
        default: return VLANTags(outer: tag(&self), inner: tag(&self))
        }
    }
}

@Suite("ARP encoder")
struct ARPEncoderTests {
    static let rounds = 20_000

    @Test("Replies round-trip through the parser")
    func replyRoundTrip() throws {
        var rng = SplitMix64(seed: 0x5EED_0001)
        var buffer = [UInt8](repeating: 0, count: ARPEncoder.maximumLength)
        for _ in 0..<Self.rounds {
            let (mac, vip, requester, requesterIP, tags) = (rng.mac(), rng.nonZeroIPv4(), rng.mac(), rng.nonZeroIPv4(), rng.tags())
            let written = buffer.withUnsafeMutableBytes {
                ARPEncoder.encodeReply(into: $0, from: mac, vip: vip, to: requester, requesterIP: requesterIP, tags: tags)
            }
            try #require(written == 42 + 4 * tags.count)
            let parsed = buffer.withUnsafeBytes { FrameParser.parse(UnsafeRawBufferPointer(rebasing: $0[..<written])) }
            let expected = ARPFrame(
                ethernet: EthernetHeader(destination: requester, source: mac, tags: tags, etherType: EtherType.arp),
                arp: ARPPacket(operation: .reply, senderMAC: mac, senderIP: vip, targetMAC: requester, targetIP: requesterIP))
            try #require(parsed == .arp(expected))
            if vip != requesterIP {
                try #require(parsed.classification == .reply)
            }
        }
    }

    @Test("Gratuitous requests round-trip through the parser")
    func gratuitousRequestRoundTrip() throws {
        var rng = SplitMix64(seed: 0x5EED_0002)
        var buffer = [UInt8](repeating: 0, count: ARPEncoder.maximumLength)
        for _ in 0..<Self.rounds {
            let (mac, vip, tags) = (rng.mac(), rng.nonZeroIPv4(), rng.tags())
            let written = buffer.withUnsafeMutableBytes {
                ARPEncoder.encodeGratuitousRequest(into: $0, mac: mac, vip: vip, tags: tags)
            }
            try #require(written == 42 + 4 * tags.count)
            let parsed = buffer.withUnsafeBytes { FrameParser.parse(UnsafeRawBufferPointer(rebasing: $0[..<written])) }
            let expected = ARPFrame(
                ethernet: EthernetHeader(destination: .broadcast, source: mac, tags: tags, etherType: EtherType.arp),
                arp: ARPPacket(operation: .request, senderMAC: mac, senderIP: vip, targetMAC: .zero, targetIP: vip))
            try #require(parsed == .arp(expected))
            try #require(parsed.classification == .gratuitousRequest)
        }
    }

    @Test("RFC 5944 gratuitous replies round-trip through the parser")
    func gratuitousReplyRoundTrip() throws {
        var rng = SplitMix64(seed: 0x5EED_0003)
        var buffer = [UInt8](repeating: 0, count: ARPEncoder.maximumLength)
        for _ in 0..<Self.rounds {
            let (mac, vip, tags) = (rng.mac(), rng.nonZeroIPv4(), rng.tags())
            let written = buffer.withUnsafeMutableBytes {
                ARPEncoder.encodeGratuitousReply(into: $0, mac: mac, vip: vip, tags: tags)
            }
            try #require(written == 42 + 4 * tags.count)
            let parsed = buffer.withUnsafeBytes { FrameParser.parse(UnsafeRawBufferPointer(rebasing: $0[..<written])) }
            let expected = ARPFrame(
                ethernet: EthernetHeader(destination: .broadcast, source: mac, tags: tags, etherType: EtherType.arp),
                arp: ARPPacket(operation: .reply, senderMAC: mac, senderIP: vip, targetMAC: mac, targetIP: vip))
            try #require(parsed == .arp(expected))
            try #require(parsed.classification == .gratuitousReply)
        }
    }

    @Test("Array helpers give the same bytes as the buffer encoders")
    func arrayHelpers() {
        let tags = VLANTags(outer: VLANTag(tpid: EtherType.serviceVLAN, vlanID: 10), inner: VLANTag(vlanID: 100, priority: 5))
        var buffer = [UInt8](repeating: 0, count: ARPEncoder.maximumLength)
        let written = buffer.withUnsafeMutableBytes {
            ARPEncoder.encodeGratuitousRequest(into: $0, mac: Lab.hostB, vip: Lab.vip100, tags: tags)
        }
        #expect(written == 50)
        #expect(ARPFrames.gratuitousRequest(mac: Lab.hostB, vip: Lab.vip100, tags: tags) == Array(buffer.prefix(written)))
        #expect(ARPFrames.gratuitousRequest(mac: Lab.hostB, vip: Lab.vip100).count == 42)
        #expect(ARPFrames.gratuitousReply(mac: Lab.hostB, vip: Lab.vip100, tags: VLANTags(VLANTag(vlanID: 3))).count == 46)
    }

    @Test("Gratuitous frames have the exact wire layout")
    func gratuitousWireLayout() {
        #expect(ARPFrames.gratuitousRequest(mac: Lab.hostB, vip: Lab.vip100) == hex(
            "ffffffffffff 020000000b01 0806 0001 0800 06 04 0001 020000000b01 c6120064 000000000000 c6120064"))
        #expect(ARPFrames.gratuitousReply(mac: Lab.hostB, vip: Lab.vip100) == hex(
            "ffffffffffff 020000000b01 0806 0001 0800 06 04 0002 020000000b01 c6120064 020000000b01 c6120064"))
    }

    @Test("The encoders write only their own bytes")
    func writesOnlyItsLength() {
        var buffer = [UInt8](repeating: 0xAB, count: 64)
        let written = buffer.withUnsafeMutableBytes {
            ARPEncoder.encodeGratuitousReply(into: $0, mac: Lab.hostB, vip: Lab.vip100)
        }
        #expect(written == 42)
        #expect(buffer[42...].allSatisfy { $0 == 0xAB })
    }

    @Test("VLAN tag fields")
    func vlanTagFields() {
        let tag = VLANTag(tpid: EtherType.vlan, tci: 0xB064)  // priority 5, DEI 1, VLAN 100
        #expect(tag.priority == 5)
        #expect(tag.dropEligible)
        #expect(tag.vlanID == 100)
        #expect(VLANTag(vlanID: 0x1FFF, priority: 9) == VLANTag(tpid: 0x8100, tci: 0x2FFF))
        var tags = VLANTags()
        let appended = [tags.append(VLANTag(vlanID: 1)), tags.append(VLANTag(vlanID: 2)), tags.append(VLANTag(vlanID: 3))]
        #expect(appended == [true, true, false])
        #expect(tags.count == 2)
        #expect(tags == VLANTags(outer: VLANTag(vlanID: 1), inner: VLANTag(vlanID: 2)))
        #expect(tags != VLANTags(VLANTag(vlanID: 1)))
    }
}
