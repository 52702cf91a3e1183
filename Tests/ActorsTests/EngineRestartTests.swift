import ProxyARPActors
import ProxyARPCore
import ProxyARPTestSupport
import Testing

@Suite("Engine: restart over what an earlier instance left")
struct EngineRestartTests {
    @Test("VIPs left bound keep that agent (load would move some) and skip the probe; a VIP left on an adapter no longer managed, and a new one, probe")
    func adoptedVIPsKeepTheirAgent() async throws {
        let vips = vipRange("198.18.0.60", count: 5)
        // All on eth1: load alone would spread them over eth0 and eth1.
        var left: [IPAddress: AdapterName] = [:]
        for vip in vips.prefix(3) { left[vip.address] = "eth1" }
        left[vips[3].address] = "eth9"
        let lab = EngineLab(vips: vips, conflicts: ConflictConfiguration(probeWait: .milliseconds(200)), leftovers: left)
        lab.allLinksUp()
        #expect(await lab.eventually { lab.host.reconciledVIPs.first?.count == 5 })
        let adopted = Set(vips.prefix(3).map(\.address))
        #expect(await lab.eventually {
            await lab.status().vips.filter { adopted.contains($0.vip) }.allSatisfy { $0.state == "active" && $0.agent == "eth1" }
        })
        // Only the other two probed; they wait for the round.
        let probed = {
            Set(lab.wire.sentFrames.compactMap { sent -> IPAddress? in
                guard case .arp(let frame) = FrameParser.parse(sent.bytes), frame.kind == .probe else { return nil }
                return .v4(frame.arp.targetIP)
            })
        }
        #expect(await lab.eventually { probed().count == 2 })
        #expect(probed() == [vips[3].address, vips[4].address])
        #expect(await lab.status().vips.filter { !adopted.contains($0.vip) }.allSatisfy { $0.state == "pending" })
        await lab.advance(.milliseconds(250))
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" } })
        await lab.stop()
    }
}
