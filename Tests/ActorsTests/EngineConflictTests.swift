import ProxyARPActors
import ProxyARPCore
import ProxyARPStateMachines
import ProxyARPTestSupport
import Testing

// Foreign claims through the whole engine: the capture's observations reach the VIP's
// machine, which defends, reports or yields (RFC 5227 §2.4).

@Suite("Engine: foreign claims")
struct EngineConflictTests {
    static let foreign = MACAddress(0x02, 0, 0, 0, 0x0c, 0x01)

    /// `vip` claimed by `foreign`, as heard by every adapter (three capture batches).
    static func claim(_ vip: IPAddress, in lab: EngineLab) {
        for (name, _, _) in EngineLab.adapters {
            lab.wire.deliver([HeardObservation(observation: .conflict(vip: vip, claimedBy: foreign), adapter: name, at: lab.clock.now())])
        }
    }

    /// Gratuitous ARPs for `vip` sent since `mark`.
    static func announcements(of vip: IPAddress, in lab: EngineLab, since mark: Int) -> [InMemoryWire.SentFrame] {
        lab.wire.sentFrames.dropFirst(mark).filter { sent in
            if case .arp(let frame) = FrameParser.parse(sent.bytes) { return frame.isGratuitous && .v4(frame.arp.senderIP) == vip }
            return false
        }
    }

    @Test("defend: a claim heard by three adapters is defended once; a second within 10 s makes the VIP contested; quiet clears it")
    func defend() async throws {
        let vips = vipRange("198.18.0.90", count: 3)
        let lab = EngineLab(vips: vips)
        lab.allLinksUp()
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" } })
        let vip = vips[1].address
        let agent = try #require(await lab.status().vips.first { $0.vip == vip }?.agent)

        var mark = lab.wire.sentFrames.count
        Self.claim(vip, in: lab)
        #expect(await lab.eventually { await lab.status().conflicts == 1 })
        #expect(await lab.eventually { Self.announcements(of: vip, in: lab, since: mark).count == 2 })
        let defence = Self.announcements(of: vip, in: lab, since: mark)
        #expect(defence.allSatisfy { $0.adapter == agent }, "both forms from the agent")
        var status = try #require(await lab.status().vips.first { $0.vip == vip })
        #expect(status.conflict == nil, "defended, not contested")
        #expect(status.state == "active")

        await lab.advance(.seconds(1))
        mark = lab.wire.sentFrames.count
        Self.claim(vip, in: lab)
        #expect(await lab.eventually { await lab.status().conflicts == 2 })
        status = try #require(await lab.status().vips.first { $0.vip == vip })
        #expect(status.conflict?.claimedBy == Self.foreign, "\(String(describing: status.conflict))")
        #expect(status.state == "active", "policy defend keeps answering")
        #expect(Self.announcements(of: vip, in: lab, since: mark).isEmpty, "at most one defence per 10 s")
        #expect(lab.wire.answerTable.current.proxyLists[agent]?.contains(vip) == true)

        await lab.advance(.seconds(11), step: .milliseconds(500))
        #expect(await lab.eventually { await lab.status().vips.first { $0.vip == vip }?.conflict == nil })
        // The other VIPs saw nothing.
        #expect(await lab.status().vips.filter { $0.vip != vip }.allSatisfy { $0.conflicts == 0 })
        await lab.stop()
    }

    @Test("yield: the second claim within 10 s gives the VIP up (off the proxy list, off lo, unbound); it comes back 60 s after the last claim")
    func yield() async throws {
        let vips = vipRange("198.18.0.95", count: 2)
        let lab = EngineLab(vips: vips, conflicts: ConflictConfiguration(policy: .yield, probeWait: .zero))
        lab.allLinksUp()
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" } })
        let vip = vips[0].address
        Self.claim(vip, in: lab)
        #expect(await lab.eventually { await lab.status().conflicts == 1 })
        await lab.advance(.seconds(2))
        Self.claim(vip, in: lab)
        #expect(await lab.eventually { await lab.status().vips.first { $0.vip == vip }?.state == "conflict" })
        #expect(await lab.eventually { !lab.host.loopback.contains(vip) })
        #expect(lab.host.bindings[vip] == nil)
        #expect(lab.wire.answerTable.current.proxyLists.values.allSatisfy { !$0.contains(vip) })
        #expect(lab.wire.answerTable.current.watchedVIPs.contains(vip), "still watched: later claims are seen")
        let request = arpRequest(from: MACAddress(0x02, 0, 0, 0, 0x0d, 0x01), ip: IPv4Address("198.18.0.1")!, for: vip)
        #expect(lab.wire.clientSends(request, on: EngineLab.lan).isEmpty, "nobody answers a yielded VIP")

        await lab.advance(.seconds(61), step: .seconds(1))
        #expect(await lab.eventually { await lab.status().vips.first { $0.vip == vip }?.state == "active" })
        #expect(lab.host.loopback.contains(vip))
        #expect(lab.wire.clientSends(request, on: EngineLab.lan).count == 1)
        await lab.stop()
    }
}

@Suite("Engine: probing before the first activation")
struct EngineProbeTests {
    /// Another host answers the probe for `taken` during the wait: the conflict is counted,
    /// every VIP stays pending until the wait is over, then all but `taken` become active and
    /// `taken` stays in conflict, never on `lo`.
    static func expectNeverClaimed(_ taken: IPAddress, in lab: EngineLab) async {
        lab.wire.deliver([
            HeardObservation(observation: .conflict(vip: taken, claimedBy: EngineConflictTests.foreign), adapter: "eth0", at: lab.clock.now())
        ])
        #expect(await lab.eventually { await lab.status().conflicts == 1 })
        #expect(await lab.status().vips.allSatisfy { $0.state == "pending" }, "still probing")
        await lab.advance(.milliseconds(250))
        #expect(await lab.eventually {
            let status = await lab.status()
            return status.vips.filter { $0.vip != taken }.allSatisfy { $0.state == "active" }
                && status.vips.first { $0.vip == taken }?.state == "conflict"
        })
        #expect(!lab.host.loopback.contains(taken))
    }

    @Test("one probe per VIP from the adapter that would serve it, one wait for the whole round; a VIP another host answers for is never claimed")
    func probeRound() async throws {
        let vips = vipRange("198.18.0.40", count: 20)
        let lab = EngineLab(vips: vips, conflicts: ConflictConfiguration(probeWait: .milliseconds(200)))
        lab.allLinksUp()
        // The probes go out at once; nothing is announced before the wait is over.
        #expect(await lab.eventually { lab.wire.sentFrames.count == vips.count })
        let probes = lab.wire.sentFrames.compactMap { sent -> ARPFrame? in
            guard case .arp(let frame) = FrameParser.parse(sent.bytes) else { return nil }
            return frame
        }
        #expect(probes.allSatisfy { $0.kind == .probe && $0.arp.senderIP == .any })
        #expect(Set(probes.map(\.arp.targetIP)) == Set(vips.compactMap(\.address.ipv4)))
        // Another host answers for one of them during the wait.
        let taken = vips[7].address
        await Self.expectNeverClaimed(taken, in: lab)
        #expect(lab.wire.answerTable.current.proxyLists.values.allSatisfy { !$0.contains(taken) })
        #expect(!lab.wire.sentFrames.contains { sent in
            guard case .arp(let frame) = FrameParser.parse(sent.bytes) else { return false }
            return frame.isGratuitous && frame.arp.senderIP == taken
        }, "never announced")
        await lab.stop()
    }

    @Test("IPv6 VIPs are probed too: one Duplicate Address Detection solicitation per VIP (from ::, nonce, no link-layer option), to its solicited-node group; a VIP another host advertises during the wait is never claimed")
    func duplicateAddressDetectionRound() async throws {
        let vips = (0..<6).map { VIPConfiguration(address: IPv6Address("2001:db8::\(String(0x100 + $0, radix: 16))")!) }
        let lab = EngineLab(vips: vips, conflicts: ConflictConfiguration(probeWait: .milliseconds(200)))
        lab.allLinksUp()
        #expect(await lab.eventually { lab.wire.sentFrames.count == vips.count })
        let probes = lab.wire.sentFrames.compactMap { sent -> NDPFrame? in
            guard case .ndp(let frame) = NDPParser.parse(sent.bytes) else { return nil }
            return frame
        }
        #expect(probes.count == vips.count, "one probe per VIP, nothing else yet: \(lab.wire.sentFrames.count) frames")
        #expect(probes.allSatisfy { $0.isDuplicateAddressProbe && $0.linkLayerAddress == nil })
        #expect(probes.allSatisfy { $0.destination == $0.target.solicitedNodeGroup })
        #expect(Set(probes.map { IPAddress.v6($0.target) }) == Set(vips.map(\.address)))
        // Another host defends one of them (its advertisement is a conflict for a watched VIP).
        let taken = vips[2].address
        await Self.expectNeverClaimed(taken, in: lab)
        #expect(lab.wire.answerTable.current.ipv6.proxyLists.values.allSatisfy { !$0.contains(taken.ipv6!) })
        #expect(!lab.wire.sentFrames.contains { sent in
            guard case .ndp(let frame) = NDPParser.parse(sent.bytes), case .advertisement = frame.message else { return false }
            return IPAddress.v6(frame.target) == taken
        }, "never advertised")
        await lab.stop()
    }
}
