import ProxyARPCore
import ProxyARPIO
import ProxyARPTestSupport
import Testing

/// The Neighbor Discovery clause of the narrowed capture filter, run by libpcap's own
/// interpreter (`pcap_offline_filter`): over the NDP fixture captures against the NDP answer
/// rules, and over random IPv6 VIP sets against a plain Swift model of what it lets through.
@Suite("Capture filter: Neighbor Discovery clause")
struct CaptureFilterNDPTests {
    typealias SeededGenerator = CaptureFilterSearchTests.SeededGenerator

    static let hostB = MACAddress(0x02, 0, 0, 0, 0x0b, 0x01)
    static let requester = MACAddress(0x02, 0, 0, 0, 0x0a, 0x01)
    static func v6(_ text: String) -> IPv6Address { IPv6Address(text)! }

    /// IPv6 views like the fixtures' host B (2001:db8::2 is the solicited address there).
    static let views: [AnswerView] = [
        // B answers for 2001:db8::2 and ::3 (and an IPv4 VIP: the ARP part stays as it was).
        AnswerView(adapterMAC: hostB, proxyList: [IPv4Address(198, 18, 0, 2)], watchedVIPs: [IPv4Address(198, 18, 0, 2)], ownMACs: [hostB],
                   ipv6: IPv6AnswerSets(proxyList: [v6("2001:db8::2"), v6("2001:db8::3")], watchedVIPs: [v6("2001:db8::2"), v6("2001:db8::3")])),
        // B is a sibling: it answers for nothing, watches 2001:db8::2 (own announcements, conflicts).
        AnswerView(adapterMAC: hostB, proxyList: [], watchedVIPs: [], ownMACs: [hostB, requester],
                   ipv6: IPv6AnswerSets(proxyList: [], watchedVIPs: [v6("2001:db8::2")])),
        // A's own 2001:db8::1 is a watched VIP: its solicitations are claims.
        AnswerView(adapterMAC: hostB, proxyList: [], watchedVIPs: [], ownMACs: [hostB],
                   ipv6: IPv6AnswerSets(proxyList: [v6("2001:db8::2")], watchedVIPs: [v6("2001:db8::1"), v6("2001:db8::2")])),
    ]

    static func program(for view: AnswerView, maximumInstructions: Int = CaptureFilterProgram.defaultMaximumInstructions) -> CaptureFilterProgram? {
        CaptureFilterProgram(
            served: CaptureFilterProgram.ranges(of: view.proxyList), watched: CaptureFilterProgram.ranges(of: view.watchedVIPs),
            snapshotLength: 128, neighborDiscovery: view.ipv6, maximumInstructions: maximumInstructions)
    }

    @Test("Every fixture frame the NDP rules answer or observe, and every ARP frame the ARP rules need, passes", arguments: [
        Fixtures.linuxNDPCapture, Fixtures.craftedNDPCapture, Fixtures.linuxCapture,
    ])
    func fixturesPass(name: String) throws {
        let frames = try CaptureFile(path: Fixtures.path(name)).frames
        var needed = 0
        var dropped = 0
        for view in Self.views {
            let program = try #require(Self.program(for: view))
            for (index, frame) in frames.enumerated() {
                let mustPass: Bool
                switch NDPAnswerRules.decide(frame, view: view) {
                case .advertise, .observe: mustPass = true
                case .ignore(.notNeighborDiscovery):
                    switch AnswerRules.decide(frame, view: view) {
                    case .reply, .observe, .ignore(.malformed): mustPass = true
                    case .ignore: mustPass = false
                    }
                case .ignore: mustPass = false
                }
                if mustPass {
                    needed += 1
                    #expect(program.accepts(frame), "\(name) frame \(index + 1) filtered out")
                } else if !program.accepts(frame) {
                    dropped += 1
                }
            }
        }
        #expect(needed > 0)
        // The filter narrows: frames the rules only ignore (other targets, other ICMPv6) are dropped.
        if name == Fixtures.linuxNDPCapture { #expect(dropped > 0, "nothing dropped in \(name)") }
    }

    // MARK: Crafted frames and the model

    /// One IPv6 frame: a solicitation or advertisement (or another ICMPv6 `type`), untagged or
    /// behind one in-band tag, with `nextHeader` (58: none in between; else an 8-byte
    /// extension header of that kind first), cut to `length` bytes when given.
    static func frame(
        type: UInt8, source: IPv6Address, target: IPv6Address, solicited: Bool = false, tagged: Bool = false,
        nextHeader: UInt8 = 58, length: Int? = nil
    ) -> [UInt8] {
        var bytes: [UInt8] = [0x33, 0x33, 0xff, 0, 0, 0x02] + [0x02, 0, 0, 0, 0x0a, 0x01]
        if tagged { bytes += [0x81, 0x00, 0x00, 0x00] }
        bytes += [0x86, 0xdd]
        let extensionLength = nextHeader == 58 ? 0 : 8
        let payload = extensionLength + 32
        bytes += [0x60, 0, 0, 0, UInt8(payload >> 8), UInt8(payload & 0xff), nextHeader, 255]
        func append(_ address: IPv6Address) { bytes += (0..<16).map { address.octet($0) } }
        append(source)
        append(target.solicitedNodeGroup)
        if extensionLength > 0 { bytes += [58, 0, 1, 4, 0, 0, 0, 0] }  // next: ICMPv6; a PadN option
        bytes += [type, 0, 0, 0, solicited ? 0x60 : 0x20, 0, 0, 0]
        append(target)
        bytes += [1, 1, 0x02, 0, 0, 0, 0x0a, 0x01]
        if let length { bytes = Array(bytes.prefix(length)) }
        return bytes
    }

    /// What the clause must let through, read from the bytes as the rules' codec reads them
    /// (sets, not the program's groups).
    static func modelAccepts(_ frame: [UInt8], served: Set<IPv6Address>, ours: Set<IPv6Address>) -> Bool {
        func word(_ at: Int) -> UInt16 { UInt16(frame[at]) << 8 | UInt16(frame[at + 1]) }
        func address(_ at: Int) -> IPv6Address {
            let bytes = frame[at..<(at + 16)].map { UInt64($0) }
            return IPv6Address(high: bytes[0..<8].reduce(0) { $0 << 8 | $1 }, low: bytes[8..<16].reduce(0) { $0 << 8 | $1 })
        }
        guard frame.count >= 14 else { return false }
        var link = 14
        if [0x8100, 0x88a8, 0x9100].contains(word(12)) {
            guard frame.count >= 18 else { return false }
            link = 18
        }
        guard word(link - 2) == 0x86dd, frame.count > link + 6 else { return false }
        let nextHeader = frame[link + 6]
        if [0, 43, 60].contains(nextHeader) { return true }
        guard nextHeader == 58, frame.count > link + 40, [135, 136].contains(frame[link + 40]) else { return false }
        guard frame.count >= link + 64 else { return true }  // too short: the codec counts it
        let target = address(link + 48)
        let source = address(link + 8)
        if frame[link + 40] == 136 { return frame[link + 44] & 0x40 == 0 || ours.contains(target) }
        return source.isUnspecified || served.contains(target) || ours.contains(source)
    }

    /// Random IPv6 VIP sets: a few /64s, a few third words in each, runs of addresses (often
    /// one) with gaps (often one) in the last word, one run touching the last word's ends.
    static func randomSet(groups: Int, runs: Int, using generator: inout SeededGenerator) -> Set<IPv6Address> {
        var set: Set<IPv6Address> = []
        let prefixes = (0..<max(1, groups / 2)).map { _ in 0x2001_0db8_0000_0000 | UInt64.random(in: 0...0xffff_ffff, using: &generator) }
        for group in 0..<groups {
            let high = prefixes[group % prefixes.count]
            let third = UInt64(Bool.random(using: &generator) ? UInt32(group) : UInt32.random(in: 0...UInt32.max, using: &generator))
            var next = UInt64(group == 0 ? 0 : UInt32.random(in: 0...0xff00_0000, using: &generator))
            for _ in 0..<runs {
                let width = Bool.random(using: &generator) ? 1 : UInt64.random(in: 1...40, using: &generator)
                for offset in 0..<width where next + offset <= 0xffff_ffff {
                    set.insert(IPv6Address(high: high, low: third << 32 | (next + offset)))
                }
                next += width + (Bool.random(using: &generator) ? 1 : UInt64.random(in: 1...3_000, using: &generator))
                if next > 0xffff_ffff { break }
            }
        }
        return set
    }

    /// The bounds of `set`'s runs (up to 800 of them, at random) and their neighbours: ±1 in
    /// the last word, and the same last word with each of the first three words changed by one.
    static func probes(around set: Set<IPv6Address>, using generator: inout SeededGenerator) -> [IPv6Address] {
        var probes: [IPv6Address] = [.unspecified, IPv6Address(high: .max, low: .max)]
        let bounds = set.filter {
            !set.contains(IPv6Address(high: $0.high, low: $0.low &+ 1)) || !set.contains(IPv6Address(high: $0.high, low: $0.low &- 1))
        }
        for address in bounds.sorted().shuffled(using: &generator).prefix(800) {
            probes.append(address)
            probes.append(IPv6Address(high: address.high, low: address.low &+ 1))
            probes.append(IPv6Address(high: address.high, low: address.low &- 1))
            probes.append(IPv6Address(high: address.high &+ (1 << 32), low: address.low))
            probes.append(IPv6Address(high: address.high &+ 1, low: address.low))
            probes.append(IPv6Address(high: address.high, low: address.low &+ (1 << 32)))
        }
        probes += (0..<100).map { _ in
            IPv6Address(high: 0x2001_0db8_0000_0000 | UInt64.random(in: 0...0xffff_ffff, using: &generator), low: UInt64.random(in: 0...UInt64.max, using: &generator))
        }
        return probes
    }

    @Test("The clause agrees with the model for solicitations, advertisements, probes, tags, extension headers and short frames",
          arguments: [(1, 1), (1, 60), (3, 20), (8, 60), (2, 100)])
    func agreesWithModel(groups: Int, runs: Int) throws {
        var generator = SeededGenerator(seed: UInt64(groups * 1_000 + runs))
        for round in 0..<2 {
            let watched = Self.randomSet(groups: groups, runs: runs, using: &generator)
            var served = Set(watched.filter { _ in Bool.random(using: &generator) })
            if round == 1 { served.formUnion(Self.randomSet(groups: 1, runs: 3, using: &generator)) }  // served, not watched
            let ours = watched.union(served)
            let view = AnswerView(adapterMAC: Self.hostB, proxyList: [], watchedVIPs: [], ownMACs: [Self.hostB],
                                  ipv6: IPv6AnswerSets(proxyList: IPv6AddressSet(served), watchedVIPs: IPv6AddressSet(watched)))
            let program = try #require(Self.program(for: view), "\(groups) groups × \(runs) runs did not fit")
            #expect(program.capturesNeighborDiscovery)
            let bystander = Self.v6("2001:db8:ffff:ffff::beef")
            #expect(!ours.contains(bystander))
            var mismatches: [String] = []
            var accepted = 0
            func check(_ frame: [UInt8], _ what: @autoclosure () -> String) {
                let expected = Self.modelAccepts(frame, served: served, ours: ours)
                if expected { accepted += 1 }
                if program.accepts(frame) != expected { mismatches.append("\(what()): model \(expected)") }
            }
            for probe in Self.probes(around: ours, using: &generator) {
                for tagged in [false, true] {
                    check(Self.frame(type: 135, source: bystander, target: probe, tagged: tagged), "NS target \(probe) tagged \(tagged)")
                    check(Self.frame(type: 135, source: probe, target: bystander, tagged: tagged), "NS source \(probe) tagged \(tagged)")
                    check(Self.frame(type: 136, source: bystander, target: probe, solicited: true, tagged: tagged), "solicited NA \(probe)")
                }
            }
            let vip = try #require(served.first ?? watched.first)
            for tagged in [false, true] {
                check(Self.frame(type: 136, source: bystander, target: bystander, solicited: false, tagged: tagged), "unsolicited NA")
                check(Self.frame(type: 135, source: .unspecified, target: bystander, tagged: tagged), "DAD probe")
                check(Self.frame(type: 128, source: bystander, target: vip, tagged: tagged), "echo request")
                for nextHeader: UInt8 in [0, 43, 60, 44, 17, 6] {
                    check(Self.frame(type: 135, source: bystander, target: bystander, tagged: tagged, nextHeader: nextHeader), "next header \(nextHeader)")
                }
                for length in [20, 60, 62, 70, 77, 78, 81, 82, 86] {
                    check(Self.frame(type: 135, source: bystander, target: vip, tagged: tagged, length: length), "NS cut at \(length)")
                    check(Self.frame(type: 135, source: bystander, target: bystander, tagged: tagged, length: length), "bystander NS cut at \(length)")
                }
            }
            #expect(mismatches.isEmpty, "\(ours.count) ours, \(served.count) served: \(mismatches.prefix(10))")
            #expect(accepted > 0)
        }
    }

    @Test("ARP narrowing is the same with the clause; IPv6 is dropped without it; too many IPv6 groups fall back")
    func arpUnchangedAndLimit() throws {
        let served = [IPv4Address(198, 18, 0, 100).rawValue...IPv4Address(198, 18, 0, 120).rawValue]
        let watched = [IPv4Address(198, 18, 0, 1).rawValue...IPv4Address(198, 18, 0, 2).rawValue]
        let arpOnly = try #require(CaptureFilterProgram(served: served, watched: watched, snapshotLength: 128))
        let sets = IPv6AnswerSets(proxyList: [Self.v6("2001:db8::10")], watchedVIPs: [Self.v6("2001:db8::10"), Self.v6("2001:db8::11")])
        let mixed = try #require(CaptureFilterProgram(served: served, watched: watched, snapshotLength: 128, neighborDiscovery: sets))
        #expect(!arpOnly.capturesNeighborDiscovery && mixed.capturesNeighborDiscovery)
        var generator = SeededGenerator(seed: 7)
        for target in CaptureFilterSearchTests.probes(around: served + watched, using: &generator) {
            for sender in [0, IPv4Address(198, 18, 0, 50).rawValue, IPv4Address(198, 18, 0, 2).rawValue, target] {
                let request = CaptureFilterSearchTests.request(target: target, sender: sender)
                #expect(arpOnly.accepts(request) == mixed.accepts(request), "target \(target) sender \(sender)")
            }
        }
        let solicitation = Self.frame(type: 135, source: Self.v6("2001:db8::99"), target: Self.v6("2001:db8::10"))
        #expect(mixed.accepts(solicitation))
        #expect(!arpOnly.accepts(solicitation))
        #expect(!mixed.accepts(Self.frame(type: 135, source: Self.v6("2001:db8::99"), target: Self.v6("2001:db8::12"))))

        // One group per distinct 96-bit prefix costs 11 instructions in each search (served,
        // ours): 150 served and watched fit the kernel's 4,096, 250 do not (the wide filter stays).
        let scattered = (0..<250).map { IPv6Address(high: 0x2001_0db8_0000_0000 | UInt64($0), low: 1) }
        let some = IPv6AnswerSets(proxyList: IPv6AddressSet(scattered.prefix(150)), watchedVIPs: IPv6AddressSet(scattered.prefix(150)))
        let fits = try #require(CaptureFilterProgram(served: [], watched: [], snapshotLength: 128, neighborDiscovery: some))
        #expect(fits.instructions.count <= 2 * 150 * 11 + 100, "\(fits.instructions.count) instructions")
        let many = IPv6AnswerSets(proxyList: IPv6AddressSet(scattered), watchedVIPs: IPv6AddressSet(scattered))
        #expect(CaptureFilterProgram(served: [], watched: [], snapshotLength: 128, neighborDiscovery: many) == nil)
        // Consecutive VIPs in one /96 are one range: 100,000 of them cost a handful of instructions.
        let contiguous = IPv6AddressSet((0..<100_000).map { IPv6Address(high: 0x2001_0db8_0000_0000, low: 0x1_0000 + UInt64($0)) })
        let large = try #require(CaptureFilterProgram(
            served: [], watched: [], snapshotLength: 128, neighborDiscovery: IPv6AnswerSets(proxyList: contiguous, watchedVIPs: contiguous)))
        #expect(large.servedIPv6.count == 1 && large.servedIPv6[0].last.count == 1)
        #expect(large.instructions.count < 150, "\(large.instructions.count) instructions")
        #expect(large.accepts(Self.frame(type: 135, source: Self.v6("2001:db8::99"), target: IPv6Address(high: 0x2001_0db8_0000_0000, low: 0x1_0000 + 99_999))))
        #expect(!large.accepts(Self.frame(type: 135, source: Self.v6("2001:db8::99"), target: IPv6Address(high: 0x2001_0db8_0000_0000, low: 0x1_0000 + 100_000))))
    }
}
