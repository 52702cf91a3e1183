import ProxyARPCore
import ProxyARPIO
import ProxyARPTestSupport
import Testing

/// The narrowed capture filter, run by libpcap's own interpreter (`pcap_offline_filter`)
/// over the fixture captures and crafted frames, against the answer rules.
@Suite("Capture filter program")
struct CaptureFilterProgramTests {
    static let hostB = MACAddress(0x02, 0, 0, 0, 0x0b, 0x01)
    static let requester = MACAddress(0x02, 0, 0, 0, 0x0a, 0x01)
    static let views: [AnswerView] = [
        // As the core tests' host B: answering for 198.18.0.2, .100 and 192.0.2.2.
        AnswerView(adapterMAC: hostB, proxyList: [ip(198, 18, 0, 2), ip(198, 18, 0, 100), ip(192, 0, 2, 2)],
                   watchedVIPs: [ip(198, 18, 0, 2), ip(198, 18, 0, 100), ip(192, 0, 2, 2)], ownMACs: [hostB]),
        // Host A's own 198.18.0.1 is a watched VIP: its requests are claims.
        AnswerView(adapterMAC: hostB, proxyList: [ip(198, 18, 0, 100)],
                   watchedVIPs: [ip(198, 18, 0, 1), ip(198, 18, 0, 2), ip(198, 18, 0, 100)], ownMACs: [hostB]),
        // An adapter that answers for nothing but watches everything.
        AnswerView(adapterMAC: hostB, proxyList: [], watchedVIPs: [ip(198, 18, 0, 2), ip(198, 18, 0, 100)], ownMACs: [hostB, requester]),
    ]

    static func ip(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) -> IPv4Address { IPv4Address(a, b, c, d) }

    static func program(for view: AnswerView) throws -> CaptureFilterProgram {
        try #require(CaptureFilterProgram(
            served: CaptureFilterProgram.ranges(of: view.proxyList), watched: CaptureFilterProgram.ranges(of: view.watchedVIPs),
            snapshotLength: 128))
    }

    static func request(target: IPv4Address, sender: IPv4Address, operation: ARPOperation = .request) -> [UInt8] {
        var frame = [UInt8](repeating: 0, count: 42)
        frame.withUnsafeMutableBytes { buffer in
            _ = ARPFrame(
                ethernet: EthernetHeader(destination: .broadcast, source: requester, tags: VLANTags(), etherType: EtherType.arp),
                arp: ARPPacket(operation: operation, senderMAC: requester, senderIP: sender, targetMAC: .zero, targetIP: target)
            ).encode(into: buffer)
        }
        return frame
    }

    @Test("Every fixture frame the rules answer, observe or count as malformed passes", arguments: [
        Fixtures.linuxCapture, Fixtures.craftedCapture, Fixtures.vlanScopeCapture, Fixtures.foreignClaimsCapture,
    ])
    func fixturesPass(name: String) throws {
        let frames = try CaptureFile(path: Fixtures.path(name)).frames
        var needed = 0
        for view in Self.views {
            let program = try Self.program(for: view)
            for (index, frame) in frames.enumerated() {
                let decision = AnswerRules.decide(frame, view: view)
                let mustPass: Bool
                switch decision {
                case .reply, .observe: mustPass = true
                case .ignore(.malformed): mustPass = true
                case .ignore: mustPass = false
                }
                if mustPass {
                    needed += 1
                    #expect(program.accepts(frame), "\(name) frame \(index + 1): \(decision) filtered out")
                }
            }
        }
        #expect(needed > 0)
    }

    @Test("Plain requests pass only for a served target or from a watched sender")
    func plainRequests() throws {
        let view = Self.views[1]
        let program = try Self.program(for: view)
        let client = Self.ip(198, 18, 0, 50)
        #expect(program.accepts(Self.request(target: Self.ip(198, 18, 0, 100), sender: client)))  // served: answered
        #expect(!program.accepts(Self.request(target: Self.ip(198, 18, 0, 2), sender: client)))  // another adapter's VIP
        #expect(!program.accepts(Self.request(target: Self.ip(198, 18, 0, 250), sender: client)))  // nobody's
        #expect(!program.accepts(Self.request(target: Self.ip(198, 18, 0, 99), sender: client)))  // next to a served one
        #expect(!program.accepts(Self.request(target: Self.ip(198, 18, 0, 101), sender: client)))
        #expect(program.accepts(Self.request(target: Self.ip(198, 18, 0, 250), sender: Self.ip(198, 18, 0, 2))))  // claim
        #expect(program.accepts(Self.request(target: Self.ip(198, 18, 0, 250), sender: IPv4Address(rawValue: 0))))  // probe
        #expect(program.accepts(Self.request(target: client, sender: client)))  // gratuitous
        #expect(program.accepts(Self.request(target: Self.ip(198, 18, 0, 250), sender: client, operation: .reply)))  // replies
        var truncated = Self.request(target: Self.ip(198, 18, 0, 250), sender: client)
        truncated.removeLast(4)
        #expect(program.accepts(truncated))  // malformed: counted by the codec
        var ipv6 = Self.request(target: Self.ip(198, 18, 0, 100), sender: client)
        ipv6[12] = 0x86
        ipv6[13] = 0xdd
        #expect(!program.accepts(ipv6))
    }

    @Test("Ranges merge consecutive addresses, and the size limit falls back")
    func rangesAndLimit() throws {
        let set = AddressSet((0..<300).map { IPv4Address(rawValue: 0xC612_0000 + UInt32($0)) } + [Self.ip(198, 19, 0, 7), Self.ip(198, 19, 0, 9)])
        let ranges = CaptureFilterProgram.ranges(of: set)
        #expect(ranges == [0xC612_0000...0xC612_012B, Self.ip(198, 19, 0, 7).rawValue...Self.ip(198, 19, 0, 7).rawValue,
                           Self.ip(198, 19, 0, 9).rawValue...Self.ip(198, 19, 0, 9).rawValue])
        // The binary search takes about 2 instructions per range: 2,000 fit the kernel's
        // 4,096 (the default bound), 2,400 do not; a smaller bound still falls back.
        let scattered = (0..<2_400).map { UInt32($0 * 2)...UInt32($0 * 2) }
        #expect(CaptureFilterProgram(served: Array(scattered.prefix(75)), watched: [], snapshotLength: 128) != nil)
        #expect(CaptureFilterProgram(served: Array(scattered.prefix(2_000)), watched: [], snapshotLength: 128) != nil)
        #expect(CaptureFilterProgram(served: scattered, watched: [], snapshotLength: 128) == nil)
        #expect(CaptureFilterProgram(served: Array(scattered.prefix(200)), watched: [], snapshotLength: 128, maximumInstructions: 256) == nil)
        let large = try #require(CaptureFilterProgram(served: Array(scattered.prefix(600)), watched: [], snapshotLength: 128, maximumInstructions: 4_096))
        #expect(large.accepts(Self.request(target: IPv4Address(rawValue: 1_198), sender: Self.ip(198, 18, 0, 50))))
        #expect(!large.accepts(Self.request(target: IPv4Address(rawValue: 1_199), sender: Self.ip(198, 18, 0, 50))))
    }
}
