import Glibc
import ProxyARPCore
import ProxyARPIO
import ProxyARPTestSupport
import Testing

/// The XDP program against ``AnswerRules``: every frame of every fixture capture (and
/// mutations of them) runs through the loaded program with `BPF_PROG_TEST_RUN`, and its
/// verdict and reply bytes are compared with what the pcap path decides for the same frame
/// and table.
///
/// What must hold: XDP_TX only where AnswerRules replies, with the same bytes; XDP_DROP only
/// for a plain request whose target is active on another adapter (AnswerRules ignores it:
/// `.targetNotOurs`); everything else XDP_PASS (the pcap path then decides as before). And a
/// plain untagged request AnswerRules answers is answered in XDP, not passed.
@Suite("XDP program vs AnswerRules (BPF_PROG_TEST_RUN)", .serialized, .enabled(if: getuid() == 0, "needs root (CAP_BPF) to load"))
struct XDPProgramTests {
    static let xdpDrop: UInt32 = 1
    static let xdpPass: UInt32 = 2
    static let xdpTX: UInt32 = 3

    static let hostA = MACAddress(0x02, 0, 0, 0, 0x0a, 0x01)
    static let hostB = MACAddress(0x02, 0, 0, 0, 0x0b, 0x01)
    static let sibling = MACAddress(0x02, 0, 0, 0, 0x0d, 0x01)
    static let ipA = IPv4Address(198, 18, 0, 1)
    static let ipB = IPv4Address(198, 18, 0, 2)
    static let vip100 = IPv4Address(198, 18, 0, 100)
    static let vip77 = IPv4Address(198, 18, 0, 77)
    static let vlanVIP = IPv4Address(192, 0, 2, 2)
    static let adapter = AdapterName("xdptest0")
    static let other = AdapterName("xdptest1")

    /// Tables seen from host B (the adapter under test, bound to the loopback device).
    static let tables: [(String, AnswerTable)] = [
        ("host B answers .2, .100, 192.0.2.2", AnswerTable(
            generation: 1,
            proxyLists: [adapter: ProxyList(agentMAC: hostB, vips: [ipB, vip100, vlanVIP])],
            watchedVIPs: [ipB, vip100, vlanVIP], ownMACs: [hostB])),
        ("a sibling (not host A: a client here) answers .100 and .77, host B .2", AnswerTable(
            generation: 2,
            proxyLists: [adapter: ProxyList(agentMAC: hostB, vips: [ipB]),
                         other: ProxyList(agentMAC: sibling, vips: [vip100, vip77])],
            watchedVIPs: [ipB, vip100, vip77], ownMACs: [sibling, hostB])),
        ("as above, .1 watched too: its requests are claims, passed", AnswerTable(
            generation: 3,
            proxyLists: [adapter: ProxyList(agentMAC: hostB, vips: [ipB]),
                         other: ProxyList(agentMAC: hostA, vips: [vip100, vip77])],
            watchedVIPs: [ipA, ipB, vip100, vip77], ownMACs: [hostA, hostB])),
        ("nothing answered, everything watched", AnswerTable(
            generation: 4, proxyLists: [:], watchedVIPs: [ipA, ipB, vip100], ownMACs: [hostA, hostB])),
        ("host B answers .1 (whose owner sends requests), sibling A ours", AnswerTable(
            generation: 5,
            proxyLists: [adapter: ProxyList(agentMAC: hostB, vips: [ipA, vip100])],
            watchedVIPs: [ipA, vip100], ownMACs: [hostA, hostB])),
    ]

    static func fixtureFrames() throws -> [[UInt8]] {
        try [Fixtures.linuxCapture, Fixtures.craftedCapture, Fixtures.vlanScopeCapture, Fixtures.foreignClaimsCapture]
            .flatMap { try CaptureFile(path: Fixtures.path($0)).frames }
    }

    /// Checks one frame; returns the verdict.
    static func check(_ frame: [UInt8], table: AnswerTable, program: XDPFastPath) throws -> UInt32 {
        let view = table.view(for: adapter, mac: hostB)
        let decision = AnswerRules.decide(frame, view: view)
        let run = try program.testRun(frame)
        let parsed = FrameParser.parse(frame)
        let plain: Bool = {
            guard case .arp(let arp) = parsed, arp.ethernet.tags.count == 0 else { return false }
            return arp.kind == .request || arp.kind == .unicastRequest
        }()
        switch run.verdict {
        case xdpTX:
            guard case .reply(let plan, _) = decision else {
                Issue.record("XDP answered what AnswerRules does not (\(decision)): \(frame)")
                return run.verdict
            }
            #expect(run.frame == plan.bytes, "reply bytes differ for \(frame)")
        case xdpDrop:
            #expect(plain && decision == .ignore(.targetNotOurs), "dropped \(decision): \(frame)")
            if case .arp(let arp) = parsed {
                #expect(table.proxyLists.values.contains { $0.contains(arp.arp.targetIP) }, "dropped a request for an inactive address")
            }
        case xdpPass:
            #expect(run.frame == frame, "a passed frame was changed")
            if case .reply = decision {
                #expect(!plain, "a plain request AnswerRules answers was passed, not answered in XDP: \(frame)")
            }
        default:
            Issue.record("unexpected verdict \(run.verdict)")
        }
        return run.verdict
    }

    @Test("Every fixture frame, under every table: same verdicts and reply bytes as AnswerRules")
    func fixtures() throws {
        let program = try XDPFastPath(adapters: [Self.adapter, Self.other], vipCapacity: 16, logger: .init(label: "test"))
        defer { program.shutdown() }
        program.bindForTestRun(adapter: Self.adapter, mac: Self.hostB)
        let frames = try Self.fixtureFrames()
        #expect(frames.count > 30)
        var verdicts: [UInt32: Int] = [:]
        for (name, table) in Self.tables {
            program.publish(table)
            for frame in frames {
                verdicts[try Self.check(frame, table: table, program: program), default: 0] += 1
            }
            _ = name
        }
        // The comparison covers all three outcomes.
        #expect(verdicts[Self.xdpTX, default: 0] > 0)
        #expect(verdicts[Self.xdpDrop, default: 0] > 0)
        #expect(verdicts[Self.xdpPass, default: 0] > 0)
        // The program counted what it did.
        let counts = program.adapterCounts()[Self.adapter]
        #expect(counts?.replies == UInt64(verdicts[Self.xdpTX, default: 0]))
        #expect(counts?.dropped == UInt64(verdicts[Self.xdpDrop, default: 0]))
        #expect(program.repliesPerVIP().values.reduce(0, +) == UInt64(verdicts[Self.xdpTX, default: 0]))
    }

    @Test("Mutated fixture frames (one to three bytes changed, or cut): never a verdict AnswerRules contradicts")
    func mutations() throws {
        let program = try XDPFastPath(adapters: [Self.adapter, Self.other], vipCapacity: 16, logger: .init(label: "test"))
        defer { program.shutdown() }
        program.bindForTestRun(adapter: Self.adapter, mac: Self.hostB)
        let frames = try Self.fixtureFrames().filter { $0.count >= 42 }
        var generator = SystemRandomNumberGenerator()
        var verdicts: [UInt32: Int] = [:]
        for (_, table) in Self.tables {
            program.publish(table)
            for _ in 0..<600 {
                var frame = frames.randomElement(using: &generator)!
                for _ in 0..<Int.random(in: 1...3, using: &generator) {
                    // Mostly the ARP body and type fields, where the rules look.
                    let index = Int.random(in: 12..<min(frame.count, 50), using: &generator)
                    frame[index] = UInt8.random(in: 0...255, using: &generator)
                }
                if Int.random(in: 0..<8, using: &generator) == 0 { frame.removeLast(Int.random(in: 1...frame.count - 14, using: &generator)) }
                verdicts[try Self.check(frame, table: table, program: program), default: 0] += 1
            }
        }
        #expect(verdicts.values.reduce(0, +) == 600 * Self.tables.count)
    }

    @Test("A failover is make-before-break in the maps, and a withdrawn VIP is passed again")
    func failover() throws {
        let program = try XDPFastPath(adapters: [Self.adapter, Self.other], vipCapacity: 16, logger: .init(label: "test"))
        defer { program.shutdown() }
        program.bindForTestRun(adapter: Self.adapter, mac: Self.hostB)
        let request = ARPFrame(
            ethernet: EthernetHeader(destination: .broadcast, source: Self.hostA, tags: VLANTags(), etherType: EtherType.arp),
            arp: ARPPacket(operation: .request, senderMAC: MACAddress(0x02, 0, 0, 0, 0x0c, 0x09), senderIP: IPv4Address(198, 18, 0, 9),
                           targetMAC: .zero, targetIP: Self.vip100)
        ).bytes
        func table(_ generation: UInt64, _ lists: [AdapterName: ProxyList]) -> AnswerTable {
            AnswerTable(generation: generation, proxyLists: lists, watchedVIPs: [Self.vip100], ownMACs: [Self.hostA, Self.hostB])
        }
        program.publish(table(1, [Self.other: ProxyList(agentMAC: Self.hostA, vips: [Self.vip100])]))
        #expect(try program.testRun(request).verdict == Self.xdpDrop)  // the agent is elsewhere
        program.publish(table(2, [Self.adapter: ProxyList(agentMAC: Self.hostB, vips: [Self.vip100])]))
        let answered = try program.testRun(request)
        #expect(answered.verdict == Self.xdpTX)
        #expect(answered.frame == ARPFrames.reply(from: Self.hostB, vip: Self.vip100, to: MACAddress(0x02, 0, 0, 0, 0x0c, 0x09), requesterIP: IPv4Address(198, 18, 0, 9)))
        program.publish(table(3, [:]))
        #expect(try program.testRun(request).verdict == Self.xdpPass)  // withdrawn: pcap decides (ignores)
    }

    @Test("Random table sequences (VIPs moving, entering, leaving, watched or not): after every publish the maps answer as the table says")
    func incrementalMirror() throws {
        let program = try XDPFastPath(adapters: [Self.adapter, Self.other], vipCapacity: 64, logger: .init(label: "test"))
        defer { program.shutdown() }
        program.bindForTestRun(adapter: Self.adapter, mac: Self.hostB)
        let vips = (100..<120).map { IPv4Address(198, 18, 0, UInt8($0)) }
        let requester = (mac: MACAddress(0x02, 0, 0, 0, 0x0c, 0x09), ip: IPv4Address(198, 18, 0, 9))
        // Sets mutated in place from table to table, as the selector does (shards shared).
        var mine = AddressSet()
        var theirs = AddressSet()
        var watched = AddressSet()
        var generator = SystemRandomNumberGenerator()
        var verdicts: [UInt32: Int] = [:]
        for generation in 1...150 {
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let vip = vips.randomElement(using: &generator)!
                mine.remove(vip)
                theirs.remove(vip)
                switch Int.random(in: 0..<4, using: &generator) {
                case 0: mine.insert(vip)
                case 1: theirs.insert(vip)
                case 2: watched.remove(vip)
                default: watched.insert(vip)
                }
                if mine.contains(vip) || theirs.contains(vip) { watched.insert(vip) }
            }
            var lists: [AdapterName: ProxyList] = [:]
            if !mine.isEmpty { lists[Self.adapter] = ProxyList(agentMAC: Self.hostB, vips: mine) }
            if !theirs.isEmpty { lists[Self.other] = ProxyList(agentMAC: Self.sibling, vips: theirs) }
            let table = AnswerTable(
                generation: UInt64(generation), proxyLists: lists, watchedVIPs: watched, ownMACs: [Self.hostB, Self.sibling])
            program.publish(table)
            for vip in vips {
                let request = ARPFrame(
                    ethernet: EthernetHeader(destination: .broadcast, source: requester.mac, tags: VLANTags(), etherType: EtherType.arp),
                    arp: ARPPacket(operation: .request, senderMAC: requester.mac, senderIP: requester.ip, targetMAC: .zero, targetIP: vip)
                ).bytes
                let verdict = try Self.check(request, table: table, program: program)
                let expected = mine.contains(vip) ? Self.xdpTX : theirs.contains(vip) ? Self.xdpDrop : Self.xdpPass
                #expect(verdict == expected, "generation \(generation), \(vip): \(verdict), expected \(expected)")
                verdicts[verdict, default: 0] += 1
            }
        }
        #expect(verdicts.count == 3, "all three verdicts occurred: \(verdicts)")
    }
}
