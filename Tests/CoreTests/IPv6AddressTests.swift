import ProxyARPCore
import Testing

@Suite("IPv6 addresses")
struct IPv6AddressTests {
    @Test(
        "Text forms parse and print in the RFC 5952 canonical form",
        arguments: [
            ("2001:db8::1", "2001:db8::1"),
            ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
            ("::", "::"),
            ("::1", "::1"),
            ("fe80::", "fe80::"),
            ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),  // first of two equal runs
            ("2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"),  // longest run, not the first
            ("2001:db8:1:1:1:1:0:1", "2001:db8:1:1:1:1:0:1"),  // a single zero group stays
            ("ff02::1:ff00:2", "ff02::1:ff00:2"),
            ("::ffff:198.18.0.1", "::ffff:c612:1"),
            ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
        ])
    func roundTrip(text: String, canonical: String) throws {
        let address = try #require(IPv6Address(text))
        #expect(address.description == canonical)
        #expect(IPv6Address(canonical) == address)
    }

    @Test(
        "Malformed text is refused",
        arguments: [
            "", ":", ":::", "1:::2", "1::2::3", "2001:db8::1/64", "fe80::1%eth0", "12345::", "g::1",
            "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::", ":1::", "1::2:", "198.18.0.1", "::1.2.3", "+1::",
        ])
    func refused(text: String) {
        #expect(IPv6Address(text) == nil)
    }

    @Test("Solicited-node group and multicast MAC follow RFC 4291 and RFC 2464")
    func solicitedNode() throws {
        let vip = try #require(IPv6Address("2001:db8::abcd:1234:5678"))
        #expect(vip.solicitedNodeGroup.description == "ff02::1:ff34:5678")
        #expect(vip.solicitedNodeGroup.multicastMAC.description == "33:33:ff:34:56:78")
        #expect(IPv6Address.allNodes.multicastMAC.description == "33:33:00:00:00:01")
        #expect(vip.solicitedNodeGroup.isMulticast && !vip.isMulticast)
        #expect(try #require(IPv6Address("fe80::1")).isLinkLocal)
        #expect(try #require(IPv6Address("febf::1")).isLinkLocal)
        #expect(!(try #require(IPv6Address("fec0::1")).isLinkLocal))
        #expect(IPv6Address.unspecified.isUnspecified)
    }

    @Test("Advancing carries into the high half and stops at the end")
    func advance() throws {
        let last = IPv6Address(high: 0x2001_0db8_0000_0000, low: .max)
        #expect(last.advanced(by: 1) == IPv6Address(high: 0x2001_0db8_0000_0001, low: 0))
        #expect(IPv6Address(high: .max, low: .max).advanced(by: 1) == nil)
        #expect(try #require(IPv6Address("2001:db8::ff")).advanced(by: 1)?.description == "2001:db8::100")
    }
}

@Suite("IPv6 prefixes")
struct IPv6PrefixTests {
    @Test("contains() compares the network bits of both halves", arguments: [
        ("2001:db8::10", 64, "2001:db8::ffff:1", true),
        ("2001:db8::10", 64, "2001:db8:0:1::10", false),
        ("2001:db8::10", 120, "2001:db8::ff", true),
        ("2001:db8::10", 120, "2001:db8::100", false),
        ("2001:db8::10", 128, "2001:db8::10", true),
        ("2001:db8::10", 128, "2001:db8::11", false),
        ("2001:db8::10", 0, "fe80::1", true),
        ("2001:db8::10", 32, "2001:db8:ffff::1", true),
        ("2001:db8::10", 33, "2001:db8:8000::1", false),
    ])
    func contains(address: String, length: Int, other: String, expected: Bool) throws {
        let base = try #require(IPv6Address(address))
        let candidate = try #require(IPv6Address(other))
        let prefix = try #require(IPv6Prefix(address: base, length: length))
        #expect(prefix.contains(candidate) == expected)
    }

    @Test("A length outside 0...128 is refused")
    func badLength() {
        #expect(IPv6Prefix(address: .unspecified, length: 129) == nil)
        #expect(IPv6Prefix(address: .unspecified, length: -1) == nil)
    }
}
