import CLinuxNet
import Glibc
import ProxyARPCore
@testable import ProxyARPIO
import Testing

/// Message building and parsing, and the monitor's link table, without a kernel.
@Suite("Netlink messages")
struct NetlinkMessageTests {
    /// A request turned into the message the kernel would see.
    static func message(_ request: NetlinkRequest, sequence: UInt32 = 7) -> NetlinkMessage {
        let bytes = request.finished(sequence: sequence)
        let messages = bytes.withUnsafeBytes { NetlinkMessage.parse($0) }
        precondition(messages.count == 1)
        return messages[0]
    }

    static func link(_ type: Int, index: Int32, name: String, flags: UInt32, mac: [UInt8] = [2, 0, 0, 0, 0, 1]) -> NetlinkMessage {
        var request = NetlinkRequest(type: UInt16(type), flags: 0, label: "test")
        var header = ifinfomsg()
        header.ifi_index = index
        header.ifi_flags = flags
        request.append(header: header)
        request.appendAttribute(Int(IFLA_IFNAME), string: name)
        request.appendAttribute(Int(IFLA_ADDRESS), mac)
        return message(request)
    }

    static func address(_ type: Int, index: Int32, _ text: String, secondary: Bool = false) -> NetlinkMessage {
        let interface = IPv4Interface(text)!
        var request = NetlinkRequest(type: UInt16(type), flags: 0, label: "test")
        var header = ifaddrmsg()
        header.ifa_family = UInt8(AF_INET)
        header.ifa_prefixlen = UInt8(interface.subnet.prefixLength)
        header.ifa_index = UInt32(index)
        header.ifa_flags = secondary ? UInt8(IFA_F_SECONDARY) : 0
        request.append(header: header)
        request.appendAttribute(Int(IFA_LOCAL), ipv4: interface.address)
        return message(request)
    }

    static func ipv6Address(_ type: Int, index: Int32, _ text: String, flags: UInt32 = 0) -> NetlinkMessage {
        let prefix = IPv6Prefix(text)!
        var request = NetlinkRequest(type: UInt16(type), flags: 0, label: "test")
        var header = ifaddrmsg()
        header.ifa_family = UInt8(AF_INET6)
        header.ifa_prefixlen = UInt8(prefix.length)
        header.ifa_index = UInt32(index)
        request.append(header: header)
        request.appendAttribute(Int(IFA_ADDRESS), (0..<16).map { prefix.address.octet($0) })
        request.appendAttribute(Int(IFA_FLAGS), uint32: flags)
        return message(request)
    }

    static let upRunning = UInt32(IFF_UP) | UInt32(IFF_RUNNING)

    @Test("The link table follows global IPv6 addresses: tentative, link-local and deleted ones are left out")
    func linkTableIPv6() async {
        let (stream, continuation) = AsyncStream<LinkEvent>.makeStream()
        var table = LinkTable()
        table.apply(Self.link(RTM_NEWLINK, index: 3, name: "a0", flags: Self.upRunning))
        table.apply(Self.ipv6Address(RTM_NEWADDR, index: 3, "fe80::1/64"))
        table.apply(Self.ipv6Address(RTM_NEWADDR, index: 3, "2001:db8::10/64", flags: UInt32(IFA_F_TENTATIVE)))
        table.apply(Self.address(RTM_NEWADDR, index: 3, "198.18.0.10/24"))
        table.emitDifferences(names: ["a0"]) { continuation.yield($0) }
        // DAD over: the address is reported again without the tentative flag.
        table.apply(Self.ipv6Address(RTM_NEWADDR, index: 3, "2001:db8::10/64"))
        table.emitDifferences(names: ["a0"]) { continuation.yield($0) }
        table.apply(Self.ipv6Address(RTM_DELADDR, index: 3, "2001:db8::10/64"))
        table.emitDifferences(names: ["a0"]) { continuation.yield($0) }
        continuation.finish()

        var events: [LinkEvent] = []
        for await event in stream { events.append(event) }
        let without = LinkState(
            name: "a0", index: 3, mac: MACAddress(2, 0, 0, 0, 0, 1), adminUp: true, carrier: true,
            interfaces: [IPv4Interface("198.18.0.10/24")!])
        var with = without
        with.ipv6Prefixes = [IPv6Prefix("2001:db8::10/64")!]
        #expect(events == [.changed(without), .changed(with), .changed(without)])
        #expect(IPv6AddressRecord(Self.address(RTM_NEWADDR, index: 3, "198.18.0.10/24")) == nil, "IPv4 is not IPv6")
    }

    @Test("Header fields, 4-byte alignment and attribute values survive a round trip")
    func roundTrip() throws {
        var request = NetlinkRequest(type: UInt16(RTM_NEWRULE), flags: CLN_NLM_F_CREATE, label: "test")
        request.append(header: fib_rule_hdr())
        request.appendAttribute(Int(FRA_SRC), ipv4: IPv4Address(198, 18, 0, 5))
        request.appendAttribute(Int(FRA_PRIORITY), uint32: 1000)
        request.appendAttribute(Int(CLN_FRA_PROTOCOL), uint8: 0x9a)
        request.appendAttribute(Int(FRA_TABLE), uint32: 20003)
        // 16 header + 12 fib_rule_hdr + 8 + 8 + 8 (u8 padded) + 8.
        #expect(request.bytes.count == 60)

        let parsed = Self.message(request, sequence: 42)
        #expect(parsed.type == UInt16(RTM_NEWRULE))
        #expect(parsed.flags == CLN_NLM_F_CREATE | CLN_NLM_F_REQUEST)
        #expect(parsed.sequence == 42)
        let attributes = parsed.attributes(afterHeaderOf: MemoryLayout<fib_rule_hdr>.size)
        #expect(attributes.ipv4(Int(FRA_SRC)) == IPv4Address(198, 18, 0, 5))
        #expect(attributes.uint32(Int(FRA_PRIORITY)) == 1000)
        #expect(attributes.uint8(Int(CLN_FRA_PROTOCOL)) == 0x9a)
        #expect(attributes.uint32(Int(FRA_TABLE)) == 20003)
        #expect(attributes[Int(FRA_DST)] == nil)
    }

    @Test("Several messages in one datagram; a truncated tail is dropped")
    func multipart() {
        let first = NetlinkRequest(type: UInt16(RTM_GETLINK), flags: 0, label: "x").finished(sequence: 1)
        let second = RouteRequests.getLink(named: "eth0").finished(sequence: 2)
        let bytes = first + second + [1, 2, 3]
        let messages = bytes.withUnsafeBytes { NetlinkMessage.parse($0) }
        #expect(messages.map(\.sequence) == [1, 2])
        #expect(messages[1].attributes(afterHeaderOf: MemoryLayout<ifinfomsg>.size).string(Int(IFLA_IFNAME)) == "eth0")

        // A length field pointing past the end stops parsing.
        var broken = second
        broken.withUnsafeMutableBytes { $0.storeBytes(of: UInt32(999), toByteOffset: 0, as: UInt32.self) }
        #expect(broken.withUnsafeBytes { NetlinkMessage.parse($0) }.isEmpty)
    }

    @Test("An NLMSG_ERROR payload gives the positive errno")
    func errorCode() {
        var error = nlmsgerr()
        error.error = -EEXIST
        var bytes: [UInt8] = []
        withUnsafeBytes(of: error) { bytes.append(contentsOf: $0) }
        let message = NetlinkMessage(type: CLN_NLMSG_ERROR, flags: 0, sequence: 1, payload: bytes)
        #expect(NetlinkSocket.errorCode(of: message) == EEXIST)
        #expect(NetlinkError(operation: "RTM_NEWADDR", code: EEXIST).description == "RTM_NEWADDR: File exists (errno 17)")
    }

    @Test("Link and address records: flags, MAC, IFA_LOCAL, secondary")
    func records() throws {
        let link = try #require(LinkRecord(Self.link(RTM_NEWLINK, index: 3, name: "a0", flags: UInt32(IFF_UP))))
        #expect(link.adminUp && !link.carrier)
        #expect(link.mac == MACAddress(2, 0, 0, 0, 0, 1))
        let address = try #require(AddressRecord(Self.address(RTM_NEWADDR, index: 3, "198.18.0.10/24", secondary: true)))
        #expect(address.interface == IPv4Interface("198.18.0.10/24")!)
        #expect(address.secondary)
    }

    @Test("The link table yields changes once, primary addresses first, removals and renames")
    func linkTable() async {
        let (stream, continuation) = AsyncStream<LinkEvent>.makeStream()
        var table = LinkTable()
        table.apply(Self.link(RTM_NEWLINK, index: 3, name: "a0", flags: Self.upRunning))
        table.apply(Self.address(RTM_NEWADDR, index: 3, "198.18.1.10/24", secondary: true))
        table.apply(Self.address(RTM_NEWADDR, index: 3, "198.18.0.10/24"))
        table.apply(Self.link(RTM_NEWLINK, index: 4, name: "b0", flags: Self.upRunning))
        table.emitDifferences(names: ["a0"]) { continuation.yield($0) }
        // Nothing changed: nothing yielded.
        table.apply(Self.link(RTM_NEWLINK, index: 3, name: "a0", flags: Self.upRunning))
        table.emitDifferences(names: ["a0"]) { continuation.yield($0) }
        // Carrier loss.
        table.apply(Self.link(RTM_NEWLINK, index: 3, name: "a0", flags: UInt32(IFF_UP)))
        table.emitDifferences(names: ["a0"]) { continuation.yield($0) }
        // Rename a0 → a9: a0 removed (a9 is not watched).
        table.apply(Self.link(RTM_NEWLINK, index: 3, name: "a9", flags: UInt32(IFF_UP)))
        table.emitDifferences(names: ["a0"]) { continuation.yield($0) }
        continuation.finish()

        var events: [LinkEvent] = []
        for await event in stream { events.append(event) }
        let expectedA0 = LinkState(
            name: "a0", index: 3, mac: MACAddress(2, 0, 0, 0, 0, 1), adminUp: true, carrier: true,
            interfaces: [IPv4Interface("198.18.0.10/24")!, IPv4Interface("198.18.1.10/24")!])
        var lost = expectedA0
        lost.carrier = false
        #expect(events == [.changed(expectedA0), .changed(lost), .removed("a0")])
    }
}
