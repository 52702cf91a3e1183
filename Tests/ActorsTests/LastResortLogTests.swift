import ProxyARPActors
import ProxyARPCore
import ProxyARPTestSupport
import Testing

/// Issue 11: the last-resort warning was logged once per adapter and selection pass, and a
/// pass is one VIP's decision when permits run short: 2,565 lines in a 5-minute soak with a
/// carrier flap every 4 s. Now one line when an adapter starts serving as a last resort and
/// one when it stops.
@Suite("Last-resort use is logged once per adapter and change, not per selection pass")
struct LastResortLogTests {
    static let started = "no eligible adapter: VIPs given to a held-down adapter as last resort"
    static let ended = "adapter no longer serving as last resort"

    /// Carrier lost and back at once on `name`; waits until its health machine holds it down.
    private func flap(_ lab: EngineLab, _ name: AdapterName) async {
        lab.link(name, carrier: false)
        lab.link(name)
        await lab.eventually {
            await lab.status().adapters.first { $0.name == name }?.state.hasPrefix("holdDown") == true
        }
    }

    @Test("a flap burst over last resorts with 600 VIPs (more than the 256 permits): one start and one end line per episode")
    func flapBurst() async throws {
        let handler = RecordingLogHandler(level: .info)
        // 198.19.0.x is on no adapter's subnet: the hold-down's end decides among last resorts.
        let lab = EngineLab(vips: vipRange("198.19.0.1", count: 600), logHandler: handler)
        lab.allLinksUp()
        #expect(await lab.eventually(20_000) { await lab.vipsSatisfy { $0.state == "active" } })

        // All three held down with carrier, 100 ms apart: eth0's hold-down ends first.
        await flap(lab, "eth0")
        #expect(await lab.eventually(20_000) { await lab.vipsSatisfy { $0.state == "active" && $0.agent != "eth0" } })
        await lab.advance(.milliseconds(100))
        await flap(lab, "eth1")
        #expect(await lab.eventually(20_000) { await lab.vipsSatisfy { $0.state == "active" && $0.agent == "eth2" } })
        await lab.advance(.milliseconds(100))
        await flap(lab, "eth2")
        #expect(await lab.eventually(20_000) { await lab.vipsSatisfy { $0.state == "active" && $0.agent == "eth0" } })

        // The burst: the last resort serving every VIP flaps, the VIPs move to the next one
        // (its hold-down grows, so the next one ends first), four times.
        var episodes = 1
        var serving: AdapterName = "eth0"
        for _ in 0..<4 {
            await lab.advance(.milliseconds(100))
            await flap(lab, serving)
            let moved = await lab.eventually(20_000) {
                await lab.vipsSatisfy { $0.state == "active" && $0.agent != serving }
            }
            let adapters = await lab.status().adapters.map { "\($0.name) \($0.state)" }
            #expect(moved, "\(adapters)")
            guard moved, let next = await lab.status().vips.first?.agent else { break }
            #expect(await lab.vipsSatisfy { $0.agent == next })
            serving = next
            episodes += 1
        }
        await lab.stop()

        let lines = handler.recorded
        let starts = lines.filter { $0.message == Self.started }
        let ends = lines.filter { $0.message == Self.ended }
        // Before: one warning per pass, hundreds per move (each enqueued VIP frees a permit
        // for one queued VIP: a pass of one decision).
        #expect(starts.count == episodes, "\(starts.count) start lines for \(episodes) episodes")
        #expect(starts.allSatisfy { $0.level == .warning })
        // Every episode but the last ended with its link dropping.
        #expect(ends.count == episodes - 1, "\(ends.map(\.metadata))")
        #expect(ends.allSatisfy { $0.metadata["reason"] == "link down" }, "\(ends.map(\.metadata))")
        // Each start line counts the VIPs of its first pass, each end line those of the episode.
        #expect(ends.allSatisfy { Int($0.metadata["vips"] ?? "") == 600 }, "\(ends.map(\.metadata))")
    }
}
