import ProxyARPActors
import ProxyARPCore
import ProxyARPStateMachines
import ProxyARPTestSupport
import Testing

/// Flap damping must not end in a total outage (issue 11, found by the soak): with the
/// default 2 s hold-down, doubling per failure, adapters that flap in turn were all held
/// down at once while every one had carrier, and every VIP went `pending`.
@Suite("Engine: flap damping never leaves the VIPs without an agent while a link is up")
struct EngineLastResortTests {
    /// 10 VIPs on eth0/eth1's subnet and 10 on no adapter's subnet.
    static let vips = vipRange("198.18.0.100", count: 10) + vipRange("198.19.0.1", count: 10)

    /// Carrier lost and back at once on `name`, then waits until its health machine holds
    /// it down and the engine has settled (`settled`).
    private func flap(_ lab: EngineLab, _ name: AdapterName) async {
        lab.link(name, carrier: false)
        lab.link(name)
        await lab.eventually {
            await lab.status().adapters.first { $0.name == name }?.state.hasPrefix("holdDown") == true
        }
    }

    @Test("every adapter held down after flaps, all with carrier: the one whose hold-down ends first serves, then stays")
    func allHeldDownStillServes() async throws {
        let lab = EngineLab(vips: Self.vips)
        lab.allLinksUp()
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" } })

        // The adapters flap in turn, 100 ms apart: each 2 s hold-down still runs when the
        // next one starts, so after the third flap no adapter is eligible, all have carrier.
        await flap(lab, "eth0")
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" && $0.agent != "eth0" } })
        // Status shows the hold-down as the time left, not as a raw monotonic deadline
        // (issue 11, failure 8); the manual clock has not moved since the flap.
        #expect(await lab.status().adapters.first { $0.name == "eth0" }?.state == "holdDown(noCarrier, eligible in 2s)")
        await lab.advance(.milliseconds(100))
        await flap(lab, "eth1")
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" && $0.agent == "eth2" } })
        await lab.advance(.milliseconds(100))
        await flap(lab, "eth2")

        // Before: every VIP `pending(no eligible adapter)`, no reply. Now: every VIP on eth0,
        // the adapter whose hold-down ends first (and on the 198.18.0.x VIPs' subnet).
        let served = await lab.eventually { await lab.vipsSatisfy { $0.state == "active" && $0.agent == "eth0" } }
        let status = await lab.status()
        #expect(served, "\(status.vips.map { "\($0.vip) \($0.detail) \($0.agent?.rawValue ?? "-")" })")
        let adapters = Dictionary(uniqueKeysWithValues: status.adapters.map { ($0.name, $0) })
        #expect(adapters.values.allSatisfy { !$0.eligible && $0.carrier }, "\(status.adapters.map(\.state))")
        #expect(adapters["eth0"]?.state == "holdDown(noCarrier, eligible in 1.8s, serving as last resort)", "\(adapters["eth0"]?.state ?? "-")")
        #expect(adapters["eth1"]?.state.contains("last resort") == false, "\(adapters["eth1"]?.state ?? "-")")
        for vip in Self.vips.map(\.address) {
            let request = arpRequest(from: MACAddress(0x02, 0, 0, 0, 0x0d, 0x01), ip: IPv4Address("198.18.0.1")!, for: vip)
            #expect(lab.wire.clientSends(request, on: EngineLab.lan).map(\.adapter) == ["eth0"], "\(vip)")
        }
        #expect(lab.host.bindings.values.allSatisfy { $0 == "eth0" })

        // The hold-downs run out: nothing moves (sticky), and eth0 is plainly eligible.
        await lab.advance(.seconds(3), step: .milliseconds(250))
        #expect(await lab.eventually { await lab.status().adapters.allSatisfy(\.eligible) })
        #expect(await lab.vipsSatisfy { $0.state == "active" && $0.agent == "eth0" })
        await lab.stop()
    }

    @Test("a last resort whose link drops again fails over like an eligible agent; its VIPs wait for the next")
    func lastResortLosesCarrier() async throws {
        let lab = EngineLab(vips: Self.vips)
        lab.allLinksUp()
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" } })
        await flap(lab, "eth0")
        await lab.advance(.milliseconds(100))
        await flap(lab, "eth1")
        await lab.advance(.milliseconds(100))
        await flap(lab, "eth2")
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" && $0.agent == "eth0" } })

        // eth0 loses carrier for good: the VIPs go to eth1, the next hold-down to end.
        lab.wire.setSegment("eth0", nil)
        lab.link("eth0", carrier: false)
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" && $0.agent == "eth1" } })
        #expect(lab.wire.answerTable.current.proxyLists["eth0"] == nil)
        await lab.stop()
    }
}
