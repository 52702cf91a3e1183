import ProxyARPCore
import Testing

@Suite("Addresses")
struct AddressTests {
    // MARK: MACAddress

    @Test("MAC addresses parse and print", arguments: [
        ("02:00:00:00:0a:01", UInt64(0x0200_0000_0a01), "02:00:00:00:0a:01"),
        ("02-00-00-00-0A-01", 0x0200_0000_0a01, "02:00:00:00:0a:01"),
        ("ff:ff:ff:ff:ff:ff", 0xFFFF_FFFF_FFFF, "ff:ff:ff:ff:ff:ff"),
        ("0:0:0:0:0:0", 0, "00:00:00:00:00:00"),
        ("2:0:0:0:a:1", 0x0200_0000_0a01, "02:00:00:00:0a:01"),
    ])
    func macParses(text: String, raw: UInt64, printed: String) throws {
        let mac = try #require(MACAddress(text))
        #expect(mac.rawValue == raw)
        #expect(mac.description == printed)
        #expect(MACAddress(mac.description) == mac)
    }

    @Test("Bad MAC addresses are rejected", arguments: [
        "", "02:00:00:00:0a", "02:00:00:00:0a:01:02", "02:00:00:00:0a:1g", "002:00:00:00:0a:01",
        "02:00:00:00:0a:", "02::00:00:0a:01", " 02:00:00:00:0a:01", "02:00:00:00:0a:01 ", "0200.0000.0a01",
        "+2:00:00:00:0a:01", "-2:00:00:00:0a:01", "02:00:00:00:0a:+1",
    ])
    func macRejects(text: String) {
        #expect(MACAddress(text) == nil)
    }

    @Test("MAC octets, kinds and masking")
    func macProperties() {
        let mac = MACAddress(0x02, 0x00, 0x00, 0x00, 0x0a, 0x01)
        #expect(mac == MACAddress(rawValue: 0x0200_0000_0a01))
        #expect((0..<6).map { mac.octet($0) } == [0x02, 0, 0, 0, 0x0a, 0x01])
        #expect(mac.isUnicast && !mac.isMulticast && !mac.isBroadcast)
        #expect(MACAddress.broadcast.isBroadcast && MACAddress.broadcast.isMulticast && !MACAddress.broadcast.isUnicast)
        #expect(!MACAddress.zero.isUnicast)
        #expect(MACAddress(0x01, 0x00, 0x5e, 0, 0, 1).isMulticast)
        #expect(MACAddress(0x33, 0x33, 0, 0, 0, 2).isMulticast)
        #expect(MACAddress(rawValue: 0xFFFF_0200_0000_0a01) == mac)
    }

    // MARK: IPv4Address

    @Test("IPv4 addresses parse and print", arguments: [
        ("198.18.0.1", UInt32(0xC612_0001)), ("0.0.0.0", 0), ("255.255.255.255", 0xFFFF_FFFF), ("192.0.2.10", 0xC000_020A),
    ])
    func ipv4Parses(text: String, raw: UInt32) throws {
        let address = try #require(IPv4Address(text))
        #expect(address.rawValue == raw)
        #expect(address.description == text)
    }

    @Test("Bad IPv4 addresses are rejected", arguments: [
        "", "198.18.0", "198.18.0.1.2", "198.18.0.256", "198.18.00.1", "198.18.0.01", "198.18..1", "198.18.0.1 ",
        " 198.18.0.1", "198.18.0.-1", "198.18.0.+1", "198.18.0.x", "1e2.0.0.1", "198.18.0.1/24", "１.2.3.4", "0x1.0.0.1",
    ])
    func ipv4Rejects(text: String) {
        #expect(IPv4Address(text) == nil)
    }

    @Test("IPv4 octets, arithmetic and ordering")
    func ipv4Properties() {
        let address = IPv4Address(198, 18, 0, 255)
        #expect((0..<4).map { address.octet($0) } == [198, 18, 0, 255])
        #expect(address.advanced(by: 1) == IPv4Address(198, 18, 1, 0))
        #expect(IPv4Address(255, 255, 255, 255).advanced(by: 1) == nil)
        #expect(IPv4Address.any.isUnspecified && !address.isUnspecified)
        #expect(IPv4Address(198, 18, 0, 2) < IPv4Address(198, 18, 0, 10))
    }

    // MARK: IPv4Subnet

    @Test("Subnets parse, mask their base and print", arguments: [
        ("198.18.0.0/24", "198.18.0.0/24", UInt64(256)), ("198.18.0.7/24", "198.18.0.0/24", 256),
        ("0.0.0.0/0", "0.0.0.0/0", 1 << 32), ("192.0.2.10/32", "192.0.2.10/32", 1), ("198.19.255.255/15", "198.18.0.0/15", 1 << 17),
    ])
    func subnetParses(text: String, printed: String, count: UInt64) throws {
        let subnet = try #require(IPv4Subnet(text))
        #expect(subnet.description == printed)
        #expect(subnet.addressCount == count)
        #expect(IPv4Subnet(printed) == subnet)
    }

    @Test("Bad subnets are rejected", arguments: [
        "", "198.18.0.0", "198.18.0.0/", "198.18.0.0/33", "198.18.0.0/-1", "198.18.0.0/+8", "198.18.0.0/24/1",
        "198.18.0/24", "/24", "198.18.0.0/ 24", "198.18.0.0/2a",
    ])
    func subnetRejects(text: String) {
        #expect(IPv4Subnet(text) == nil)
    }

    @Test("Subnet membership, bounds and overlap")
    func subnetProperties() throws {
        let subnet = try #require(IPv4Subnet("198.18.0.0/24"))
        #expect(subnet.contains(IPv4Address(198, 18, 0, 0)))
        #expect(subnet.contains(IPv4Address(198, 18, 0, 255)))
        #expect(!subnet.contains(IPv4Address(198, 18, 1, 0)))
        #expect(subnet.lastAddress == IPv4Address(198, 18, 0, 255))
        #expect(subnet.mask == 0xFFFF_FF00)
        #expect(subnet.overlaps(try #require(IPv4Subnet("198.18.0.0/15"))))
        #expect(!subnet.overlaps(try #require(IPv4Subnet("198.18.1.0/24"))))
        #expect(IPv4Subnet(address: .any, prefixLength: 33) == nil)
        #expect(IPv4Subnet(address: .any, prefixLength: -1) == nil)
        #expect(try #require(IPv4Subnet("0.0.0.0/0")).contains(IPv4Address(255, 255, 255, 255)))
    }

    // MARK: IPv4Interface

    @Test("Interface addresses keep their host bits")
    func interfaceParses() throws {
        let interface = try #require(IPv4Interface("198.18.0.10/24"))
        #expect(interface.address == IPv4Address(198, 18, 0, 10))
        #expect(interface.subnet == IPv4Subnet("198.18.0.0/24"))
        #expect(interface.description == "198.18.0.10/24")
        #expect(IPv4Interface(interface.description) == interface)
        #expect(IPv4Interface(address: IPv4Address(192, 0, 2, 1), prefixLength: 32)?.description == "192.0.2.1/32")
    }

    @Test("Bad interface addresses are rejected", arguments: [
        "", "198.18.0.10", "198.18.0.10/33", "198.18.0.300/24", "198.18.0.10/", "/24", "198.18.0.10/24 ",
    ])
    func interfaceRejects(text: String) {
        #expect(IPv4Interface(text) == nil)
    }
}
