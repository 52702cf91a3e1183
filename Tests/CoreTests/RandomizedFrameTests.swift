import ProxyARPCore
import ProxyARPTestSupport
import Testing

/// Random and mutated frames through the parser and the answer rules: never a trap,
/// never a reply to anything malformed or not a request, and every reply well formed.
@Suite("Randomized frames")
struct RandomizedFrameTests {
    static let iterations = 1_000_000
    static let maximumFrame = 1514

    /// The view the frames are decided against (host B, see ``Lab``).
    static let view = Lab.hostBView

    @Test("One million random and mutated frames")
    func randomizedFrames() throws {
        var rng = SplitMix64(seed: 0xA11C_E5ED_0000_0001)
        let seeds = try TestData.frames(TestData.linuxCapture) + TestData.frames(TestData.craftedCapture)
        var buffer = [UInt8](repeating: 0, count: Self.maximumFrame)
        var replyBuffer = [UInt8](repeating: 0, count: ARPEncoder.maximumLength)
        var stats = Stats()
        var failures: [String] = []

        let clock = ContinuousClock()
        let start = clock.now
        for iteration in 0..<Self.iterations {
            let length = Self.makeFrame(into: &buffer, seeds: seeds, rng: &rng)
            let problem: String? = buffer.withUnsafeBytes { raw in
                let frame = UnsafeRawBufferPointer(rebasing: raw[..<length])
                return replyBuffer.withUnsafeMutableBytes { out in
                    Self.check(frame, replyBuffer: out, stats: &stats)
                }
            }
            if let problem, failures.count < 10 {
                failures.append("iteration \(iteration): \(problem): \(buffer.prefix(min(length, 64)))")
            }
        }
        let elapsed = clock.now - start

        for failure in failures { Issue.record(Comment(rawValue: failure)) }
        #expect(failures.isEmpty)
        #expect(stats.total == Self.iterations)
        // The generator must actually reach every outcome, or the test proves little.
        #expect(stats.replies > 10_000)
        #expect(stats.probeReplies > 100)
        #expect(stats.observations > 1_000)
        #expect(stats.malformed > 10_000)
        #expect(stats.notARP > 10_000)
        // The reasons the ARP parser gives (the NDP ones are reached in NDPParserTests).
        let arpReasons: [MalformedFrameReason] = [
            .truncated, .tooManyVLANTags, .badHardwareType, .badProtocolType, .badAddressLengths, .unknownOpcode,
        ]
        let reasons = arpReasons.map { ($0, stats.malformedReasons[IgnoreReason.malformed($0).counterIndex]) }
        #expect(reasons.allSatisfy { $0.1 > 100 }, "every malformed reason is reached: \(reasons)")
        print(
            "randomized frames: \(stats.total) in \(elapsed); replies \(stats.replies) (probes \(stats.probeReplies)), "
                + "observations \(stats.observations), malformed \(stats.malformed) \(reasons.map { "\($0.0)=\($0.1)" }), "
                + "not ARP \(stats.notARP), other ignored \(stats.ignored)"
        )
    }

    struct Stats {
        var total = 0
        var replies = 0
        var probeReplies = 0
        var observations = 0
        var malformed = 0
        var malformedReasons = [Int](repeating: 0, count: IgnoreReason.allCases.count)
        var notARP = 0
        var ignored = 0
    }

    /// Parses and decides one frame; returns a description of the first violated rule.
    static func check(
        _ frame: UnsafeRawBufferPointer,
        replyBuffer: UnsafeMutableRawBufferPointer,
        stats: inout Stats
    ) -> String? {
        stats.total += 1
        let parsed = FrameParser.parse(frame)
        let decision = AnswerRules.decide(frame, view: view)
        // Pure: the same frame gives the same decision (checked on a sample to keep the run short).
        if stats.total & 63 == 0, decision != AnswerRules.decide(frame, view: view) { return "decision not deterministic" }

        switch parsed {
        case .malformed(let reason):
            stats.malformed += 1
            stats.malformedReasons[IgnoreReason.malformed(reason).counterIndex] += 1
            return decision == .ignore(.malformed(reason)) ? nil : "malformed frame not ignored: \(decision)"
        case .notARP:
            stats.notARP += 1
            return decision == .ignore(.notARP) ? nil : "non-ARP frame not ignored: \(decision)"
        case .arp(let request):
            let tagged = (0..<request.ethernet.tags.count).contains { request.ethernet.tags[$0].vlanID != 0 }
            if tagged { return decision == .ignore(.otherVLAN) ? nil : "frame of another VLAN not ignored: \(decision)" }
            switch decision {
            case .ignore:
                stats.ignored += 1
                return nil
            case .observe:
                stats.observations += 1
                return nil
            case .reply(let plan, let observation):
                stats.replies += 1
                if observation != nil { stats.probeReplies += 1 }
                return checkReply(plan, observation: observation, to: request, buffer: replyBuffer)
            }
        }
    }

    static func checkReply(
        _ plan: ARPReplyPlan,
        observation: ARPObservation?,
        to request: ARPFrame,
        buffer: UnsafeMutableRawBufferPointer
    ) -> String? {
        switch request.kind {
        case .request, .unicastRequest: if observation != nil { return "observation on a plain request" }
        case .probe: if observation != .probe(vip: request.arp.targetIP, from: request.arp.senderMAC) { return "probe not observed" }
        default: return "reply to a \(request.kind)"
        }
        guard view.proxyList.contains(request.arp.targetIP) else { return "reply for an address not on the proxy list" }
        guard request.arp.senderMAC.isUnicast, !view.ownMACs.contains(request.arp.senderMAC) else {
            return "reply to a non-unicast or own sender"
        }
        guard request.ethernet.destination.isBroadcast || request.ethernet.destination == view.adapterMAC else {
            return "reply to a frame for another MAC"
        }

        let length = plan.encode(into: buffer)
        let replyBytes = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[..<length])
        guard case .arp(let reply) = FrameParser.parse(replyBytes) else { return "reply does not parse" }
        guard length == 42 else { return "reply length \(length)" }
        guard reply.kind == .reply, reply.arp.operation == .reply else { return "reply is a \(reply.kind)" }
        guard reply.ethernet.source == view.adapterMAC, reply.arp.senderMAC == view.adapterMAC else {
            return "reply not from the adapter MAC"
        }
        guard reply.ethernet.destination == request.arp.senderMAC, reply.arp.targetMAC == request.arp.senderMAC else {
            return "reply not to the requester"
        }
        guard reply.arp.senderIP == request.arp.targetIP, reply.arp.targetIP == request.arp.senderIP else {
            return "reply addresses wrong"
        }
        guard reply.ethernet.tags.isEmpty else { return "reply tagged" }
        // Our own reply, heard back, must never be answered (no reply loops).
        guard AnswerRules.decide(replyBytes, view: view) == .ignore(.ownFrame) else { return "own reply not ignored" }
        return nil
    }

    // MARK: - Frame generation

    static let proxyTargets = view.proxyList.elements.sorted() + [Lab.ipA]

    static let interestingTypes: [UInt16] = [
        EtherType.arp, EtherType.vlan, EtherType.serviceVLAN, EtherType.ipv6, EtherType.ipv4, 0x0000, 0xFFFF,
    ]

    /// Writes one random or mutated frame into `buffer` and returns its length.
    static func makeFrame(into buffer: inout [UInt8], seeds: [[UInt8]], rng: inout SplitMix64) -> Int {
        var length: Int
        let strategy = Int.random(in: 0..<10, using: &rng)
        if strategy == 0 {
            // Pure noise, sometimes with an ARP or tag type planted at 12.
            length = Int.random(in: 0...100, using: &rng)
            fillRandom(&buffer, from: 0, to: length, rng: &rng)
            if length >= 14, Bool.random(using: &rng) { store(interestingTypes.randomElement(using: &rng)!, at: 12, in: &buffer) }
            return length
        }
        if strategy <= 3 {
            length = generatedRequest(into: &buffer, rng: &rng)
        } else {
            let seed = seeds.randomElement(using: &rng)!
            length = seed.count
            buffer.withUnsafeMutableBytes { $0.copyBytes(from: seed) }
        }
        // Zero to three mutations.
        for _ in 0..<Int.random(in: 0...3, using: &rng) {
            length = mutate(&buffer, length: length, rng: &rng)
        }
        return length
    }

    /// A valid request, probe or announcement, often for one of our VIPs, with random tags
    /// and destinations: the frames most likely to be answered.
    static func generatedRequest(into buffer: inout [UInt8], rng: inout SplitMix64) -> Int {
        let pick = Int.random(in: 0...proxyTargets.count, using: &rng)
        let target = pick < proxyTargets.count ? proxyTargets[pick] : IPv4Address(rawValue: UInt32(truncatingIfNeeded: rng.next()))
        let sender: MACAddress =
            switch Int.random(in: 0..<8, using: &rng) {
            case 0: .broadcast
            case 1: Lab.hostB
            case 2: MACAddress(rawValue: rng.next() | 0x0100_0000_0000)  // multicast
            default: MACAddress(rawValue: rng.next() & ~0x0100_0000_0000)  // individual
            }
        let senderIP: IPv4Address =
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: .any
            case 1: target
            default: IPv4Address(rawValue: UInt32.random(in: 0...UInt32.max, using: &rng))
            }
        let destination: MACAddress =
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: Lab.hostB
            case 1: rng.mac()
            default: .broadcast
            }
        let frame = ARPFrame(
            ethernet: EthernetHeader(destination: destination, source: sender, tags: rng.tags(), etherType: EtherType.arp),
            arp: ARPPacket(
                operation: Int.random(in: 0..<5, using: &rng) == 0 ? .reply : .request,
                senderMAC: sender, senderIP: senderIP,
                targetMAC: Bool.random(using: &rng) ? .zero : .broadcast, targetIP: target)
        )
        let length = buffer.withUnsafeMutableBytes { frame.encode(into: $0) }
        // Sometimes padded to 60 bytes like a real NIC.
        if length < 60, Bool.random(using: &rng) {
            for index in length..<60 { buffer[index] = 0 }
            return 60
        }
        return length
    }

    static func mutate(_ buffer: inout [UInt8], length: Int, rng: inout SplitMix64) -> Int {
        switch Int.random(in: 0..<6, using: &rng) {
        case 0:  // Bit flips, mostly in the headers.
            guard length > 0 else { return length }
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                let index = Int.random(in: 0..<min(length, 64), using: &rng)
                buffer[index] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
            }
            return length
        case 1:  // Truncation.
            return Int.random(in: 0...length, using: &rng)
        case 2:  // Extension with random bytes.
            let newLength = Int.random(in: length...maximumFrame, using: &rng)
            fillRandom(&buffer, from: length, to: newLength, rng: &rng)
            return newLength
        case 3:  // A random or interesting Ethernet type at 12, 16 or 20.
            let offset = [12, 16, 20].randomElement(using: &rng)!
            guard length >= offset + 2 else { return length }
            let type = Bool.random(using: &rng) ? interestingTypes.randomElement(using: &rng)! : UInt16.random(in: 0...UInt16.max, using: &rng)
            store(type, at: offset, in: &buffer)
            return length
        case 4:  // A random ARP header field (htype, ptype, hlen/plen, opcode) behind 0-2 tags.
            let arpOffset = [14, 18, 22].randomElement(using: &rng)!
            let field = [0, 2, 4, 6].randomElement(using: &rng)!
            guard length >= arpOffset + field + 2 else { return length }
            let value: UInt16 =
                switch field {
                case 0: [0, 1, 6, 0xFFFF].randomElement(using: &rng)!
                case 2: [0x0800, 0x86DD, 0x0806, 0].randomElement(using: &rng)!
                case 4: [0x0604, 0x0810, 0x0600, 0x0004, 0x1104].randomElement(using: &rng)!
                default: UInt16.random(in: 0...4, using: &rng)
                }
            store(value, at: arpOffset + field, in: &buffer)
            return length
        default:  // Insert a VLAN tag after the MACs.
            guard length >= 12, length + 4 <= maximumFrame else { return length }
            buffer.withUnsafeMutableBytes { raw in
                let base = raw.baseAddress!
                (base + 16).copyMemory(from: base + 12, byteCount: length - 12)  // memmove semantics
            }
            store(Bool.random(using: &rng) ? EtherType.vlan : EtherType.serviceVLAN, at: 12, in: &buffer)
            store(UInt16.random(in: 0...UInt16.max, using: &rng), at: 14, in: &buffer)
            return length + 4
        }
    }

    /// Random bytes in `start..<end`, eight at a time (the generic `random(in:)` is slow in debug builds).
    static func fillRandom(_ buffer: inout [UInt8], from start: Int, to end: Int, rng: inout SplitMix64) {
        var index = start
        while index < end {
            var word = rng.next()
            var byte = 0
            while byte < 8 && index < end {
                buffer[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                byte += 1
                index += 1
            }
        }
    }

    static func store(_ value: UInt16, at offset: Int, in buffer: inout [UInt8]) {
        buffer[offset] = UInt8(truncatingIfNeeded: value >> 8)
        buffer[offset + 1] = UInt8(truncatingIfNeeded: value)
    }
}
