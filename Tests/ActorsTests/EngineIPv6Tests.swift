import ProxyARPActors
import ProxyARPCore
import ProxyARPStateMachines
import ProxyARPTestSupport
import Testing

/// IPv6 VIPs through the whole engine over the in-memory wire: the same selection,
/// activation machine, confirmation by a sibling and failover as IPv4, announced with
/// unsolicited Neighbor Advertisements.
@Suite("Engine: IPv6 VIPs")
struct EngineIPv6Tests {
    static let near = IPv6Address("2001:db8::100")!
    static let far = IPv6Address("2001:db8:1::100")!
    static let v4 = IPv4Address("198.18.0.100")!
    static let vips = [VIPConfiguration(address: near), VIPConfiguration(address: far), VIPConfiguration(address: v4)]

    /// The unsolicited advertisements for `vip` among `frames`.
    static func advertisements(of vip: IPv6Address, in frames: some Sequence<InMemoryWire.SentFrame>) -> [(AdapterName, NDPFrame)] {
        frames.compactMap { sent in
            guard case .ndp(let frame) = NDPParser.parse(sent.bytes), frame.target == vip,
                case .advertisement(let flags) = frame.message, !flags.solicited, flags.override
            else { return nil }
            return (sent.adapter, frame)
        }
    }

    @Test("IPv6 and IPv4 VIPs activate side by side: same-prefix agent, announced by unsolicited advertisements, confirmed by a sibling, published in the IPv6 table, bound on the host")
    func activate() async throws {
        let lab = EngineLab(vips: Self.vips)
        lab.allLinksUp()
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" } })
        let status = await lab.status()
        let near = try #require(status.vips.first { $0.vip == .v6(Self.near) })
        let far = try #require(status.vips.first { $0.vip == .v6(Self.far) })
        #expect(near.agent == "eth0" || near.agent == "eth1", "same prefix: \(String(describing: near.agent))")
        #expect(far.agent == "eth2", "same prefix: \(String(describing: far.agent))")
        #expect(near.confirmation?.hasPrefix("heard by eth") == true && near.confirmation != "heard by \(near.agent!)",
                "\(String(describing: near.confirmation))")
        #expect(near.localAddress == nil)

        let table = lab.wire.answerTable.current
        #expect(table.ipv6.proxyLists[near.agent!] == [Self.near])
        #expect(table.ipv6.proxyLists["eth2"] == [Self.far])
        #expect(table.ipv6.watchedVIPs == [Self.near, Self.far])
        #expect(table.watchedVIPs.count == 1, "the IPv4 set holds the IPv4 VIP only")
        #expect(table.proxyLists.values.allSatisfy { $0.vips.count <= 1 })

        // Each IPv6 VIP's agent sent advertisements for it (no ARP for it), with its MAC.
        let sent = Self.advertisements(of: Self.near, in: lab.wire.sentFrames)
        #expect(!sent.isEmpty)
        for (adapter, frame) in sent {
            #expect(adapter == near.agent)
            #expect(frame.destination == .allNodes)
            #expect(frame.linkLayerAddress == EngineLab.mac(of: adapter))
        }
        #expect(lab.host.loopback == Set(Self.vips.map(\.address)))
        #expect(lab.host.bindings[.v6(Self.near)] == near.agent)
        #expect(lab.host.bindings[.v6(Self.far)] == "eth2")
        await lab.stop()
        #expect(lab.host.loopback.isEmpty)
        #expect(lab.host.bindings.isEmpty)
    }

    @Test("carrier loss of an IPv6 VIP's agent: it moves to the other same-prefix adapter, announced again there, bound make-before-break")
    func failover() async throws {
        let lab = EngineLab(vips: Self.vips)
        lab.allLinksUp()
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" } })
        let before = try #require(await lab.status().vips.first { $0.vip == .v6(Self.near) }?.agent)
        let other: AdapterName = before == "eth0" ? "eth1" : "eth0"
        let mark = lab.wire.sentFrames.count

        lab.wire.setSegment(before, nil)
        lab.link(before, carrier: false)
        #expect(await lab.eventually { await lab.status().vips.first { $0.vip == .v6(Self.near) }?.agent == other })
        #expect(await lab.eventually { await lab.status().vips.first { $0.vip == .v6(Self.near) }?.state == "active" })
        let after = try #require(await lab.status().vips.first { $0.vip == .v6(Self.near) })
        #expect(after.failovers == 1)
        let announced = Self.advertisements(of: Self.near, in: lab.wire.sentFrames.dropFirst(mark))
        #expect(!announced.isEmpty && announced.allSatisfy { $0.0 == other }, "\(announced.map(\.0))")
        #expect(lab.wire.answerTable.current.ipv6.proxyLists[other] == [Self.near])
        #expect(lab.wire.answerTable.current.ipv6.proxyLists[before] == nil)
        #expect(lab.host.bindings[.v6(Self.near)] == other)
        #expect(lab.host.breakBeforeMakeCount == 0)
        await lab.stop()
    }

    @Test("an advertisement claiming an IPv6 VIP from another MAC is a conflict, defended with an unsolicited advertisement from the agent")
    func conflict() async throws {
        let lab = EngineLab(vips: Self.vips)
        lab.allLinksUp()
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" } })
        let agent = try #require(await lab.status().vips.first { $0.vip == .v6(Self.near) }?.agent)
        let foreign = MACAddress(0x02, 0, 0, 0, 0x0c, 0x01)
        let mark = lab.wire.sentFrames.count
        for (name, _, _) in EngineLab.adapters {
            lab.wire.deliver([HeardObservation(observation: NDPObservation.conflict(vip: Self.near, claimedBy: foreign), adapter: name, at: lab.clock.now())])
        }
        #expect(await lab.eventually { await lab.status().conflicts == 1 })
        #expect(await lab.eventually { !Self.advertisements(of: Self.near, in: lab.wire.sentFrames.dropFirst(mark)).isEmpty })
        let defence = Self.advertisements(of: Self.near, in: lab.wire.sentFrames.dropFirst(mark))
        #expect(defence.count == 1 && defence.allSatisfy { $0.0 == agent }, "\(defence.map(\.0))")
        let status = try #require(await lab.status().vips.first { $0.vip == .v6(Self.near) })
        #expect(status.state == "active" && status.conflicts == 1)
        // The IPv4 VIP saw nothing.
        #expect(await lab.status().vips.first { $0.vip == .v4(Self.v4) }?.conflicts == 0)
        await lab.stop()
    }
}
