import ProxyARPActors
import ProxyARPCore
import ProxyARPTestSupport
import Testing

/// Issue 11, item 1: adapters that are deleted and re-created, and adapters whose
/// addresses change, over the in-memory wire.
@Suite("Engine: adapters that come and go")
struct EngineAdapterLifecycleTests {
    /// 30 VIPs in the eth0/eth1 subnet.
    static let vips = vipRange("198.18.0.100", count: 30)

    /// How the re-created adapter comes back: the same ifindex after an `RTM_DELLINK`, a new
    /// one after it, or a new one with no removal reported in between (a resync's view).
    enum Recreation: String, CaseIterable, CustomTestStringConvertible {
        case sameIndex, newIndex, newIndexWithoutRemoval
        var testDescription: String { rawValue }
    }

    @Test("delete: VIPs leave at once, capture closed; re-create: set up again, eligible after hold-down; a later carrier loss fails over",
          arguments: Recreation.allCases)
    func deleteAndRecreate(_ recreation: Recreation) async throws {
        let lab = EngineLab(vips: Self.vips)
        lab.allLinksUp()
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" } })
        #expect(lab.host.preparations["eth0"] == 1)
        let onEth0 = await lab.status().vips.filter { $0.agent == "eth0" }.map(\.vip)
        #expect(!onEth0.isEmpty)

        // Deleted: the VIPs move now, eth0 leaves the answer table, its capture is closed.
        if recreation != .newIndexWithoutRemoval {
            lab.links.emit(.removed("eth0"))
            #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" && $0.agent != "eth0" } })
            #expect(lab.wire.port("eth0")?.captureOpen == false)
            let table = lab.wire.answerTable.current
            #expect(table.proxyLists["eth0"] == nil)
            #expect(!table.ownMACs.contains(EngineLab.mac(of: "eth0")))
            #expect(await lab.status().adapters.first { $0.name == "eth0" }?.state == "removed")
        }

        // Re-created: sysctls, agent table and capture again, then a hold-down.
        lab.link("eth0", index: recreation == .sameIndex ? 2 : 42)
        #expect(await lab.eventually { lab.wire.port("eth0")?.reopenings == 1 })
        #expect(lab.wire.port("eth0")?.captureOpen == true)
        #expect(lab.host.preparations["eth0"] == 2)
        #expect(lab.host.agentTableRefreshes["eth0"] == 1)
        if recreation == .newIndexWithoutRemoval {
            #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" && $0.agent != "eth0" } })
        }
        let held = await lab.status().adapters.first { $0.name == "eth0" }
        #expect(held?.eligible == false)
        #expect(held?.state.hasPrefix("holdDown(removed") == true, "\(held?.state ?? "-")")
        await lab.advance(.seconds(5), step: .milliseconds(250))
        #expect(await lab.eventually { await lab.status().adapters.first { $0.name == "eth0" }?.eligible == true })

        // eth1 loses carrier: its VIPs go to eth0 (same subnet) and are confirmed there.
        lab.wire.setSegment("eth1", nil)
        lab.link("eth1", carrier: false)
        let settled = await lab.eventually { await lab.vipsSatisfy { $0.state == "active" && $0.agent != "eth1" } }
        let status = await lab.status()
        #expect(settled, "states: \(Dictionary(grouping: status.vips, by: \.state).mapValues(\.count))")
        #expect(status.vips.contains { $0.agent == "eth0" })
        #expect(status.adapters.first { $0.name == "eth2" }?.eligible == true, "the healthy eth2 was never held down")
        // Every VIP is answered by exactly one adapter, its agent.
        for vip in status.vips {
            let request = arpRequest(from: MACAddress(0x02, 0, 0, 0, 0x0d, 0x01), ip: IPv4Address("198.18.0.1")!, for: vip.vip)
            #expect(lab.wire.clientSends(request, on: EngineLab.lan).map(\.adapter) == [vip.agent!], "\(vip.vip)")
        }
        await lab.stop()
    }

    @Test("an address change on an agent rewrites its agent table; VIPs stay and the selector sees the new subnet")
    func addressChange() async throws {
        let lab = EngineLab(vips: vipRange("198.18.0.100", count: 4) + vipRange("198.18.5.100", count: 4, preempt: true))
        lab.allLinksUp()
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" } })
        #expect(lab.host.agentTableRefreshes["eth2"] == nil)
        let before = await lab.status()

        // eth2 moves from 198.18.1.10/24 to 198.18.5.10/24: the subnet of four VIPs.
        lab.link("eth2", interfaces: [IPv4Interface("198.18.5.10/24")!])
        #expect(await lab.eventually { lab.host.agentTableRefreshes["eth2"] == 1 })
        // Same-subnet preference sees the new address: the preempting VIPs of 198.18.5.0/24
        // move to eth2 after the preempt delay; the others keep their agents.
        await lab.advance(.seconds(10), step: .milliseconds(250))
        let moved = await lab.eventually {
            await lab.vipsSatisfy { vip in
                vip.state == "active" && (!IPv4Subnet("198.18.5.0/24")!.contains(vip.vip) || vip.agent == "eth2")
            }
        }
        let after = await lab.status()
        #expect(moved, "\(after.vips.map { "\($0.vip) \($0.agent?.rawValue ?? "-") \($0.state)" })")
        for vip in after.vips where !IPv4Subnet("198.18.5.0/24")!.contains(vip.vip) {
            #expect(vip.agent == before.vips.first { $0.vip == vip.vip }?.agent)
        }
        for vip in after.vips where vip.agent == "eth2" {
            #expect(vip.localAddress == IPv4Address("198.18.5.10"), "\(vip.vip) records \(vip.localAddress.map { "\($0)" } ?? "-")")
        }
        // An address change is not a re-creation: no capture reopened, no sysctls again.
        #expect(lab.wire.port("eth2")?.reopenings == 0)
        #expect(lab.host.preparations["eth2"] == 1)
        await lab.stop()
    }
}
