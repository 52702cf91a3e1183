import ProxyARPCore
import ProxyARPTestSupport
import Testing

@Suite("NDP codec")
struct NDPParserTests {
    @Test("The kernel's solicitation parses with its fields")
    func solicitation() throws {
        guard case .ndp(let frame) = NDPParser.parse(try TestData.frame(1, of: linuxNDP)) else {
            Issue.record("frame 1 is not NDP")
            return
        }
        #expect(frame.message == .solicitation)
        #expect(frame.source == NDPLab.client)
        #expect(frame.destination == NDPLab.vip.solicitedNodeGroup)
        #expect(frame.target == NDPLab.vip)
        #expect(frame.linkLayerAddress == Lab.hostA)
        #expect(frame.ethernet.destination == NDPLab.vip.solicitedNodeGroup.multicastMAC)
        #expect(!frame.isDuplicateAddressProbe)
    }

    @Test("The kernel's advertisements parse with their flags and target link-layer address")
    func advertisements() throws {
        let expected: [(Int, NDPAdvertisementFlags, MACAddress?)] = [
            (2, NDPAdvertisementFlags(solicited: true, override: true), Lab.hostB),
            (4, NDPAdvertisementFlags(solicited: false, override: true), Lab.hostB),
            (20, NDPAdvertisementFlags(solicited: true, override: false), nil),
        ]
        for (number, flags, lla) in expected {
            guard case .ndp(let frame) = NDPParser.parse(try TestData.frame(number, of: linuxNDP)) else {
                Issue.record("frame \(number) is not NDP")
                continue
            }
            #expect(frame.message == .advertisement(flags), "frame \(number)")
            #expect(frame.linkLayerAddress == lla, "frame \(number)")
        }
    }

    @Test("A DAD probe with the nonce option parses as a probe")
    func dadProbe() throws {
        guard case .ndp(let frame) = NDPParser.parse(try TestData.frame(3, of: linuxNDP)) else {
            Issue.record("frame 3 is not NDP")
            return
        }
        #expect(frame.isDuplicateAddressProbe)
        #expect(frame.linkLayerAddress == nil)
    }

    @Test("Every checksum the kernel wrote verifies, and ours equals it")
    func checksums() throws {
        for (index, bytes) in try TestData.frames(linuxNDP).enumerated() where index + 1 != 9 && index + 1 != 27 {
            guard case .ndp = NDPParser.parse(bytes) else { continue }
            // Recompute over an untagged, option-free layout: zero the field and compute.
            let ip = bytes[12] == 0x81 ? 18 : 14
            guard bytes[ip + 6] == 58 else { continue }
            var copy = bytes
            let icmp = ip + 40
            let stored = UInt16(copy[icmp + 2]) << 8 | UInt16(copy[icmp + 3])
            copy[icmp + 2] = 0
            copy[icmp + 3] = 0
            let computed = copy.withUnsafeBytes { raw in
                ICMPv6Checksum.compute(
                    source: IPv6Address(high: load(raw, ip + 8), low: load(raw, ip + 16)),
                    destination: IPv6Address(high: load(raw, ip + 24), low: load(raw, ip + 32)),
                    message: UnsafeRawBufferPointer(rebasing: raw[icmp..<raw.count]))
            }
            #expect(computed == stored, "frame \(index + 1)")
        }
    }

    @Test("Any truncation of a solicitation is refused without a trap")
    func truncations() throws {
        let frame = try TestData.frame(1, of: linuxNDP)
        for length in 0..<frame.count {
            let decision = NDPAnswerRules.decide(Array(frame.prefix(length)), view: NDPLab.hostBView)
            #expect(decision.plan == nil, "answered a frame cut at \(length)")
        }
    }

    @Test("Random byte flips never trap, and every advertisement produced is valid NDP")
    func randomFlips() throws {
        var generator = SplitMix64(seed: 0x1D6)
        let seeds = try [1, 3, 16, 19, 22].map { try TestData.frame($0, of: linuxNDP) }
        var answered = 0
        for round in 0..<20_000 {
            var frame = seeds[round % seeds.count]
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                frame[Int.random(in: 0..<frame.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            guard let plan = NDPAnswerRules.decide(frame, view: NDPLab.hostBView).plan else { continue }
            answered += 1
            guard case .ndp(let reply) = NDPParser.parse(plan.bytes) else {
                Issue.record("advertisement does not parse: \(plan)")
                return
            }
            #expect(reply.target == NDPLab.vip)
        }
        // Flips in the Ethernet source, flow label or padding leave a valid solicitation.
        #expect(answered > 0)
    }

    private func load(_ raw: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
        UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
}
