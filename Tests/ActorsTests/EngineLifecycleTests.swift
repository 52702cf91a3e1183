import ProxyARPActors
import ProxyARPCore
import ProxyARPStateMachines
import ProxyARPTestSupport
import Testing

// The engine's structure, observed from outside: failover decided in one pass, and
// nothing of the engine running after `run()` returns.

@Suite("Engine structure: one pass per failover, one task group")
struct EngineLifecycleTests {
    @Test("an agent's failure is decided in one pass: the health machine first, the selector once, every VIP reselected before any VIP hears of it")
    func failoverDecidedOnce() async throws {
        let vips = vipRange("198.18.0.120", count: 12)
        let lab = EngineLab(vips: vips)
        lab.allLinksUp()
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" } })
        let onEth0 = Set(await lab.status().vips.filter { $0.agent == "eth0" }.map(\.vip))
        #expect(onEth0.count >= 4, "the same-subnet VIPs are spread over eth0 and eth1")

        let mark = lab.trace.records.count
        lab.link("eth0", carrier: false)
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" && $0.agent != "eth0" } })
        let records = Array(lab.trace.records.dropFirst(mark))

        // The adapter's machine saw the carrier loss before the selector heard of it, and
        // the selector heard of it once.
        let healthIndex = try #require(records.firstIndex { $0.subject == .adapter("eth0") })
        let candidateIndices = records.indices.filter {
            if case .selection(.candidateChanged(let candidate)) = records[$0].event { return candidate.name == "eth0" }
            return false
        }
        #expect(candidateIndices.count == 1, "the selector is told once: \(candidateIndices.count)")
        #expect(candidateIndices.allSatisfy { $0 > healthIndex })

        // Every affected VIP was selected for in that pass, before the first VIP reacted.
        var selected: [IPAddress] = []
        var lastSelect = 0
        for (index, record) in records.enumerated() {
            if case .selection(.select(let vip, _, _, _, _)) = record.event, onEth0.contains(vip) {
                selected.append(vip)
                lastSelect = index
            }
        }
        let firstReaction = try #require(records.firstIndex {
            if case .vip(let address) = $0.subject { return onEth0.contains(address) }
            return false
        })
        #expect(Set(selected) == onEth0)
        #expect(selected.count == onEth0.count, "one selection per VIP: no VIP asked again")
        #expect(lastSelect < firstReaction, "all decided before any VIP acted")
        // Each VIP moved straight from active to broadcast on its new agent.
        for vip in onEth0 {
            let moved = records.first { $0.subject == .vip(vip) }
            #expect(moved?.event.name == "agentSelected")
            #expect(moved?.from.hasPrefix("active(eth0") == true && moved?.to.hasPrefix("broadcast(") == true)
        }
        #expect(lab.wire.answerTable.current.proxyLists["eth0"] == nil)
        await lab.stop()
    }

    @Test("nothing of the engine runs after run() returns: armed timers never fire, an observation during shutdown is dropped and counted")
    func nothingOutlivesRun() async throws {
        let vips = vipRange("198.18.0.80", count: 4)
        let lab = EngineLab(vips: vips)
        lab.allLinksUp()
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" } })
        #expect(lab.engine.armedTimers == vips.count, "round 2 armed for every VIP")

        // While the engine withdraws its VIPs, a capture reports a foreign claim.
        let claimed = vips[0].address
        let foreign = MACAddress(0x02, 0, 0, 0, 0x0c, 0x01)
        let wire = lab.wire
        let engine = lab.engine
        let clock = lab.clock
        lab.host.whenRemovingLocalAddress { removed in
            guard removed == claimed else { return }
            wire.deliver([HeardObservation(observation: .conflict(vip: claimed, claimedBy: foreign), adapter: "eth1", at: clock.now())])
            for _ in 0..<2_000 where engine.droppedInputs == 0 { try? await Task.sleep(for: .milliseconds(1)) }
        }
        await lab.stopGracefully()

        #expect(engine.droppedInputs >= 1, "the late observation was dropped and counted")
        #expect(await lab.status().conflicts == 0, "and never handled")
        #expect(engine.armedTimers == 0)
        #expect(lab.host.loopback.isEmpty)
        let records = lab.trace.records.count
        let frames = lab.wire.sentFrames.count
        // Round 2 was due 1.2 s after round 1: let 10 s pass.
        clock.advance(by: .seconds(10))
        for _ in 0..<50 { try? await Task.sleep(for: .milliseconds(1)) }
        #expect(lab.trace.records.count == records, "no machine moved after run() returned")
        #expect(lab.wire.sentFrames.count == frames, "no announcement after run() returned")
        #expect(clock.sleeperCount == 0, "no sleeping task of the engine is left")
    }

    @Test("a timer sleep that returns early (another clock than `now`) still fires the timer at its deadline: no stall")
    func earlyWakeDoesNotStallTimers() async throws {
        let lab = EngineLab(vips: vipRange("198.18.0.70", count: 1), wakesEarly: true)
        lab.allLinksUp()
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" } })
        // Round 2 is due one interval after round 1; wake the sleeper 0.5 ms before it.
        let firstRound = try #require(lab.wire.sentFrames.first?.at)
        let due = firstRound.advanced(by: .milliseconds(1200))
        lab.clock.advance(by: due.duration(since: lab.clock.now()) - .microseconds(500))
        for _ in 0..<20 { try? await Task.sleep(for: .milliseconds(1)) }
        #expect(lab.wire.sentFrames.count == 2, "nothing due yet")
        lab.clock.advance(by: .milliseconds(1))
        #expect(await lab.eventually { lab.wire.sentFrames.count == 4 }, "round 2 went out at its deadline")
        await lab.advance(.seconds(2))
        #expect(lab.wire.sentFrames.count == 6, "and round 3 after it")
        await lab.stop()
    }
}
