import ProxyARPCore
import Testing

/// One row of a testdata/README.md table.
struct FrameRow: Sendable, CustomTestStringConvertible {
    let file: String
    let number: Int
    let expected: FrameClassification
    let sourceMismatch: Bool
    var testDescription: String { "\(file) #\(number)" }

    init(_ file: String, _ number: Int, _ expected: FrameClassification, mismatch: Bool = false) {
        self.file = file
        self.number = number
        self.expected = expected
        self.sourceMismatch = mismatch
    }
}

let ipv6 = FrameClassification.notARP(etherType: 0x86DD)
let linux = TestData.linuxCapture
let crafted = TestData.craftedCapture
let vlanScope = TestData.vlanScopeCapture

/// Every frame of linux-arp-ndp.pcap, as the README describes it.
let linuxRows: [FrameRow] = [
    FrameRow(linux, 1, ipv6), FrameRow(linux, 2, ipv6),
    FrameRow(linux, 3, .request), FrameRow(linux, 4, .reply),
    FrameRow(linux, 5, .unicastRequest), FrameRow(linux, 6, .reply),
    FrameRow(linux, 7, .request), FrameRow(linux, 8, .gratuitousRequest),
    FrameRow(linux, 9, ipv6), FrameRow(linux, 10, ipv6),
    FrameRow(linux, 11, .gratuitousReply),
    FrameRow(linux, 12, .probe), FrameRow(linux, 13, .reply),
    FrameRow(linux, 14, ipv6), FrameRow(linux, 15, ipv6), FrameRow(linux, 16, ipv6), FrameRow(linux, 17, ipv6),
]

/// Every frame of crafted-arp-edge-cases.pcap, as the README describes it.
let craftedRows: [FrameRow] = [
    FrameRow(crafted, 1, .request), FrameRow(crafted, 2, .request), FrameRow(crafted, 3, .request),
    FrameRow(crafted, 4, .malformed(.truncated)), FrameRow(crafted, 5, .malformed(.badAddressLengths)),
    FrameRow(crafted, 6, .malformed(.unknownOpcode)), FrameRow(crafted, 7, .malformed(.badHardwareType)),
    FrameRow(crafted, 8, .probe), FrameRow(crafted, 9, .gratuitousReply),
    FrameRow(crafted, 10, .request, mismatch: true), FrameRow(crafted, 11, .request),
    FrameRow(crafted, 12, .unicastRequest),
]

@Suite("Frame parser")
struct FrameParserTests {
    @Test("The tables cover every frame of both captures")
    func tablesCoverCaptures() throws {
        #expect(try TestData.frames(linux).count == linuxRows.count)
        #expect(try TestData.frames(crafted).count == craftedRows.count)
    }

    @Test("Each captured frame classifies as the README says", arguments: linuxRows + craftedRows)
    func classification(_ row: FrameRow) throws {
        let frame = try TestData.frame(row.number, of: row.file)
        let parsed = FrameParser.parse(frame)
        #expect(parsed.classification == row.expected)
        #expect(frame.withUnsafeBytes { FrameParser.classify($0) } == row.expected)
        if let arp = parsed.arpFrame {
            #expect(arp.ethernetSourceMismatch == row.sourceMismatch)
        } else {
            #expect(row.sourceMismatch == false)
        }
    }

    @Test("Linux request 3: every field")
    func requestFields() throws {
        let arp = try #require(FrameParser.parse(try TestData.frame(3, of: linux)).arpFrame)
        #expect(arp.ethernet.destination == .broadcast)
        #expect(arp.ethernet.source == Lab.hostA)
        #expect(arp.ethernet.tags.isEmpty)
        #expect(arp.ethernet.etherType == EtherType.arp)
        #expect(arp.arp == ARPPacket(
            operation: .request, senderMAC: Lab.hostA, senderIP: Lab.ipA, targetMAC: .broadcast, targetIP: Lab.ipB))
        #expect(arp.length == 42)
    }

    @Test("Linux reply 4: every field")
    func replyFields() throws {
        let arp = try #require(FrameParser.parse(try TestData.frame(4, of: linux)).arpFrame)
        #expect(arp.ethernet.destination == Lab.hostA)
        #expect(arp.ethernet.source == Lab.hostB)
        #expect(arp.arp == ARPPacket(
            operation: .reply, senderMAC: Lab.hostB, senderIP: Lab.ipB, targetMAC: Lab.hostA, targetIP: Lab.ipA))
    }

    @Test("Crafted 1: one 802.1Q tag, VLAN 100, padding ignored")
    func singleTag() throws {
        let frame = try TestData.frame(1, of: crafted)
        #expect(frame.count == 64)
        let arp = try #require(FrameParser.parse(frame).arpFrame)
        #expect(arp.ethernet.tags.count == 1)
        #expect(arp.ethernet.tags.outer == VLANTag(tpid: 0x8100, vlanID: 100))
        #expect(arp.ethernet.tags.inner == nil)
        #expect(arp.arp.targetIP == Lab.vlanVIP)
        #expect(arp.arp.senderIP == Lab.vlanRequester)
        #expect(arp.length == 46)
    }

    @Test("Crafted 3: QinQ, 802.1ad outer tag 10 then 802.1Q inner tag 100")
    func doubleTag() throws {
        let arp = try #require(FrameParser.parse(try TestData.frame(3, of: crafted)).arpFrame)
        #expect(arp.ethernet.tags.count == 2)
        #expect(arp.ethernet.tags.outer == VLANTag(tpid: 0x88A8, vlanID: 10))
        #expect(arp.ethernet.tags.inner == VLANTag(tpid: 0x8100, vlanID: 100))
        #expect(arp.ethernet.tags[1].vlanID == 100)
        #expect(arp.arp.targetIP == Lab.vlanVIP)
        #expect(arp.length == 50)
    }

    @Test("Crafted 10: Ethernet source differs from the ARP sender")
    func mismatch() throws {
        let arp = try #require(FrameParser.parse(try TestData.frame(10, of: crafted)).arpFrame)
        #expect(arp.ethernet.source == Lab.foreign)
        #expect(arp.arp.senderMAC == Lab.hostA)
        #expect(arp.ethernetSourceMismatch)
    }

    @Test("Crafted 11: a 1514-byte frame parses its ARP part")
    func trailingBytes() throws {
        let frame = try TestData.frame(11, of: crafted)
        #expect(frame.count == 1514)
        let arp = try #require(FrameParser.parse(frame).arpFrame)
        #expect(arp.arp.targetIP == Lab.vip100)
    }

    @Test("A third VLAN tag is rejected")
    func threeTags() throws {
        // Crafted 3 with one more 802.1Q tag inserted after the two it has.
        var frame = try TestData.frame(3, of: crafted)
        frame.insert(contentsOf: [0x81, 0x00, 0x00, 0x07], at: 20)
        #expect(FrameParser.parse(frame).classification == .malformed(.tooManyVLANTags))
    }

    @Test("A bad protocol type is rejected")
    func badProtocolType() throws {
        var frame = try TestData.frame(3, of: linux)
        frame[16] = 0x86
        frame[17] = 0xDD
        #expect(FrameParser.parse(frame).classification == .malformed(.badProtocolType))
    }

    @Test("Every truncation of a valid frame is rejected as truncated", arguments: [linux, crafted])
    func everyTruncation(_ file: String) throws {
        // Request 3 of the Linux capture (untagged) and crafted 3 (two tags).
        let frame = try TestData.frame(3, of: file)
        let arpLength = try #require(FrameParser.parse(frame).arpFrame).length
        for length in 0..<arpLength {
            let parsed = FrameParser.parse(Array(frame.prefix(length)))
            #expect(parsed == .malformed(.truncated), "length \(length)")
        }
        #expect(FrameParser.parse(Array(frame.prefix(arpLength))).arpFrame != nil)
    }

    @Test("A short non-ARP frame is not ARP, a tagged IPv6 frame keeps its tag")
    func notARP() {
        let bare: [UInt8] = hex("333300000002 020000000b01 86dd")
        #expect(FrameParser.parse(bare).classification == .notARP(etherType: 0x86DD))
        let tagged: [UInt8] = hex("333300000002 020000000b01 8100 0005 86dd 6000")
        guard case .notARP(let header) = FrameParser.parse(tagged) else {
            Issue.record("expected not ARP")
            return
        }
        #expect(header.tags.outer?.vlanID == 5)
        #expect(header.etherType == EtherType.ipv6)
    }

    @Test("Opcode 2 with sender IP == target IP but another target MAC is a plain reply")
    func nonGratuitousReply() throws {
        // Linux 11 (gratuitous reply), target MAC changed to host B.
        var frame = try TestData.frame(11, of: linux)
        #expect(FrameParser.parse(frame).classification == .gratuitousReply)
        frame.replaceSubrange(32..<38, with: [0x02, 0, 0, 0, 0x0b, 0x01])
        #expect(FrameParser.parse(frame).classification == .reply)
    }

    @Test("A probe sent unicast is still a probe; a unicast gratuitous request is still gratuitous")
    func precedence() throws {
        var probe = try TestData.frame(12, of: linux)
        probe.replaceSubrange(0..<6, with: [0x02, 0, 0, 0, 0x0b, 0x01])
        #expect(FrameParser.parse(probe).classification == .probe)
        var announcement = try TestData.frame(8, of: linux)
        announcement.replaceSubrange(0..<6, with: [0x02, 0, 0, 0, 0x0b, 0x01])
        #expect(FrameParser.parse(announcement).classification == .gratuitousRequest)
    }
}
