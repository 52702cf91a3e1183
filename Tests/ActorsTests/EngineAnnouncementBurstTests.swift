import ProxyARPActors
import ProxyARPCore
import ProxyARPTestSupport
import Testing

/// Issue 12 at 100,000 VIPs: a host announcing thousands of VIPs at once queued its rounds far
/// longer than the confirmation window (250 ms × 3 attempts). Timed from the decision, every
/// VIP of the burst ran out of retries while its frames were still queued, its agent was
/// reported cut off (hold-down, `unconfirmedAnnouncements`), both NICs went down that way, and
/// cluster mode released every unit of the host. These tests hold the sends in the wire's
/// queue (``InMemoryWire/holdSends()``) to make that burst at CI scale.
@Suite("Engine: an announcement burst longer than the confirmation window")
struct EngineAnnouncementBurstTests {
    /// More VIPs than announce at once (256): a second wave follows the first.
    static let burst = 600

    private func heldDown(_ lab: EngineLab) -> [String] {
        lab.trace.records.compactMap { record -> String? in
            guard case .adapter(let name) = record.subject, record.to.hasPrefix("holdDown") else { return nil }
            return "\(name): \(record.to)"
        }
    }

    @Test("rounds queued for 2 s: no adapter is held down, no VIP moves, every VIP becomes active on its first agent")
    func queuedBurstHoldsNothingDown() async throws {
        let lab = EngineLab(vips: vipRange("198.18.4.0", count: Self.burst))
        lab.wire.holdSends()
        lab.allLinksUp()
        // The first wave decides and queues its round 1; nothing leaves yet.
        #expect(await lab.eventually(20_000) { lab.wire.heldSendCount == SelectorActor.defaultPermits })
        // Eight confirmation windows pass while the rounds wait in the queue.
        await lab.advance(.seconds(2))
        #expect(heldDown(lab).isEmpty, "\(heldDown(lab).prefix(3))")
        #expect(await lab.engine.hasEligibleAdapter(), "cluster mode would release every unit here")
        lab.wire.releaseSends()
        // Read from the board (one lock), not a status per VIP: cheap enough to poll.
        let allActive = await lab.eventually(20_000) {
            let briefs = await lab.engine.briefs()
            return briefs.count == Self.burst && briefs.allSatisfy { $0.state == "active" }
        }
        #expect(allActive)
        let status = await lab.status()
        let adapterStates = status.adapters.map { "\($0.name) \($0.state)" }
        #expect(status.adapters.allSatisfy { $0.eligible }, "\(adapterStates)")
        #expect(status.vips.allSatisfy { $0.failovers == 0 }, "no VIP moved")
        #expect(status.vips.allSatisfy { $0.announcementsSent == 1 }, "round 1 went out once: confirmed without a retransmission")
        #expect(heldDown(lab).isEmpty, "\(heldDown(lab).prefix(3))")
        await lab.stop()
    }

    @Test("a cut-off adapter behind a queued burst is still held down once its rounds have left, and its VIPs move")
    func cutOffAdapterStillDetected() async throws {
        let vips = vipRange("198.18.5.0", count: 40, preferred: ["eth0"])
        let lab = EngineLab(vips: vips)
        lab.wire.holdSends()
        lab.allLinksUp()
        #expect(await lab.eventually(20_000) { lab.wire.heldSendCount == vips.count })
        await lab.advance(.seconds(2))
        lab.wire.setSegment("eth0", nil)  // carrier, but nothing it sends is heard
        lab.wire.releaseSends()
        // The rounds left now: 3 windows of 250 ms later eth0 is given up.
        let moved = await lab.eventually(20_000) {
            await lab.advance(.milliseconds(50))
            return await lab.vipsSatisfy { $0.state == "active" && $0.agent != "eth0" }
        }
        #expect(moved)
        let status = await lab.status()
        #expect(status.adapters.first { $0.name == "eth0" }?.eligible == false)
        #expect(heldDown(lab).contains { $0.hasPrefix("eth0: holdDown(unconfirmedAnnouncements") }, "\(heldDown(lab))")
        await lab.stop()
    }

    @Test("cluster mode: every adapter held down for unconfirmed announcements keeps the units; every link lost releases them")
    func onlyALostLinkReleasesUnits() async throws {
        let lab = EngineLab(vips: vipRange("198.18.6.0", count: 6))
        lab.allLinksUp()
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" } })
        // Every adapter cut off: the refresh-free VIPs stay; a reselection makes each agent unconfirmed.
        for (name, _, _) in EngineLab.adapters { lab.wire.setSegment(name, nil) }
        lab.link("eth0", carrier: false)  // its VIPs must move, to adapters nobody hears
        let allHeld = await lab.eventually(20_000) {
            await lab.advance(.milliseconds(50))
            let adapters = await lab.status().adapters
            return adapters.filter { $0.name != "eth0" }.allSatisfy { $0.state.hasPrefix("holdDown(unconfirmedAnnouncements") }
        }
        let heldStates = await lab.status().adapters.map { "\($0.name) \($0.state)" }
        #expect(allHeld, "\(heldStates)")
        #expect(await lab.engine.hasEligibleAdapter(), "held down with the link up: the units stay")
        lab.link("eth1", carrier: false)
        lab.link("eth2", adminUp: false, carrier: false)
        #expect(await lab.eventually { await !lab.engine.hasEligibleAdapter() }, "every link lost: the units go")
        await lab.stop()
    }
}
