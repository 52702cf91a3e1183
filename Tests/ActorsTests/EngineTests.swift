import Foundation
import ProxyARPActors
import ProxyARPCore
import ProxyARPStateMachines
import ProxyARPTestSupport
import Testing

@Suite("Engine over an in-memory wire")
struct EngineTests {
    /// 50 VIPs in the eth0/eth1 subnet and 50 in no adapter's subnet.
    static let hundredVIPs = vipRange("198.18.0.100", count: 50) + vipRange("198.19.0.1", count: 50)

    @Test("100 VIPs on 3 adapters all reach active, each confirmed by a sibling, answered by exactly one agent")
    func hundredVIPsActivate() async throws {
        let lab = EngineLab(vips: Self.hundredVIPs)
        lab.allLinksUp()
        let allActive = await lab.eventually { await lab.vipsSatisfy { $0.state == "active" } }
        let status = await lab.status()
        #expect(allActive, "states: \(Dictionary(grouping: status.vips, by: \.state).mapValues(\.count))")
        #expect(status.vips.count == 100)

        let table = lab.wire.answerTable.current
        for vip in status.vips {
            let agent = try #require(vip.agent)
            if agent == "eth2" {
                // eth2 has no subnet sibling and no segment peer was known when it was
                // chosen: a successful transmit is accepted, and the status says so.
                #expect(vip.confirmation == "transmitted" || vip.confirmation?.hasPrefix("heard by eth") == true)
            } else {
                #expect(vip.confirmation?.hasPrefix("heard by ") == true, "\(vip.vip) \(vip.confirmation ?? "-")")
                #expect(vip.confirmation != "heard by \(agent)")
            }
            #expect(vip.agentMAC == EngineLab.mac(of: agent))
            let holders = table.proxyLists.filter { $0.value.contains(vip.vip) }.map(\.key)
            #expect(holders == [agent], "\(vip.vip) on \(holders)")
            // Same subnet first: the 198.18.0.x VIPs sit on eth0 or eth1.
            if IPv4Subnet("198.18.0.0/24")!.contains(vip.vip) {
                #expect(agent != "eth2")
                #expect(vip.localAddress != nil && IPv4Subnet("198.18.0.0/24")!.contains(vip.localAddress!))
            }
            // A client asking for the VIP gets exactly one reply, from the agent's MAC.
            let request = arpRequest(
                from: MACAddress(0x02, 0, 0, 0, 0x0d, 0x01), ip: IPv4Address("198.18.0.1")!, for: vip.vip
            )
            let replies = lab.wire.clientSends(request, on: EngineLab.lan)
            #expect(replies.map(\.adapter) == [agent])
        }
        // Load is spread: eth0/eth1 share the 50 same-subnet VIPs; the 50 others spread over all three.
        let counts = Dictionary(grouping: status.vips, by: { $0.agent! }).mapValues(\.count)
        #expect(counts.values.max()! - counts.values.min()! <= 18, "\(counts)")
        #expect(abs((counts["eth0"] ?? 0) - (counts["eth1"] ?? 0)) <= 1, "\(counts)")
        #expect(lab.host.loopback == Set(Self.hundredVIPs.map(\.address)))
        #expect(lab.host.bindings.count == 100)
        await lab.stop()
        #expect(lab.host.loopback.isEmpty, "shutdown removes every VIP from lo")
    }

    @Test("2,000 VIPs all activate, paced: never more than the pacer's permits announcing at once")
    func pacedActivation() async throws {
        let lab = EngineLab(vips: vipRange("198.19.0.1", count: 2000))
        lab.allLinksUp()
        #expect(await lab.eventually(20_000) { await lab.vipsSatisfy { $0.state == "active" } })
        var broadcasting = 0
        var most = 0
        for record in lab.trace.records {
            guard case .vip = record.subject else { continue }
            let entering = record.to.hasPrefix("broadcast") && !record.from.hasPrefix("broadcast")
            let leaving = record.from.hasPrefix("broadcast") && !record.to.hasPrefix("broadcast")
            if entering { broadcasting += 1 }
            if leaving { broadcasting -= 1 }
            most = max(most, broadcasting)
        }
        #expect(broadcasting == 0)
        #expect(most > 1, "activations overlap")
        #expect(most <= SelectorActor.defaultPermits, "at most \(SelectorActor.defaultPermits) in broadcast, saw \(most)")
        // Confirmed VIPs waiting in the selector's queue share a publication: one table per
        // VIP (the old behaviour) would make the generation at least 2,000.
        let publications = lab.wire.answerTable.currentGeneration
        print("pacedActivation: 2000 VIPs activated with \(publications) answer tables published")
        #expect(publications < 1500, "one publication per confirmed VIP: \(publications)")
        await lab.stop()
    }

    @Test("carrier loss on an agent moves exactly its VIPs, with new gratuitous ARPs and an updated answer table")
    func carrierLossFailsOver() async throws {
        let lab = EngineLab(vips: Self.hundredVIPs)
        lab.allLinksUp()
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" } })
        let before = await lab.status()
        let onEth0 = Set(before.vips.filter { $0.agent == "eth0" }.map(\.vip))
        #expect(!onEth0.isEmpty)
        let sentBefore = lab.wire.sentFrames.count

        lab.wire.setSegment("eth0", nil)
        lab.link("eth0", carrier: false)
        let moved = await lab.eventually {
            await lab.vipsSatisfy { $0.state == "active" && $0.agent != "eth0" }
        }
        #expect(moved)
        let after = await lab.status()
        for vip in after.vips {
            let previous = before.vips.first { $0.vip == vip.vip }!
            if onEth0.contains(vip.vip) {
                #expect(vip.agent != "eth0")
                #expect(vip.failovers == 1)
                #expect(lab.host.bindings[vip.vip] == vip.agent)
            } else {
                #expect(vip.agent == previous.agent, "\(vip.vip) moved without cause")
                #expect(vip.failovers == 0)
            }
        }
        #expect(lab.host.breakBeforeMakeCount == 0)
        let table = lab.wire.answerTable.current
        #expect(table.proxyLists["eth0"] == nil)
        // Every moved VIP was announced again, by its new agent, in both forms.
        let newFrames = lab.wire.sentFrames.dropFirst(sentBefore)
        for vip in onEth0 {
            let agent = after.vips.first { $0.vip == vip }!.agent!
            let kinds = newFrames.filter { $0.adapter == agent }.compactMap { frame -> ARPFrameKind? in
                guard case .arp(let parsed) = FrameParser.parse(frame.bytes), parsed.arp.senderIP == vip else { return nil }
                #expect(parsed.arp.senderMAC == EngineLab.mac(of: agent))
                return parsed.kind
            }
            #expect(Set(kinds) == [.gratuitousRequest, .gratuitousReply], "\(vip): \(kinds)")
        }
        #expect(newFrames.allSatisfy { $0.adapter != "eth0" })

        // Link back up: nothing moves back (no preempt).
        lab.wire.setSegment("eth0", EngineLab.lan)
        lab.link("eth0")
        await lab.advance(.seconds(10), step: .milliseconds(500))
        let later = await lab.status()
        #expect(later.vips.allSatisfy { $0.agent != "eth0" })
        await lab.stop()
    }

    @Test("remove_vips_on_exit: false leaves the VIPs on lo at shutdown but still withdraws them from ARP")
    func keepVIPsOnExit() async throws {
        let vips = vipRange("198.18.0.110", count: 3)
        let lab = EngineLab(vips: vips, daemon: DaemonSettings(removeVIPsOnExit: false))
        lab.allLinksUp()
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" } })
        await lab.stop()
        #expect(lab.host.loopback == Set(vips.map(\.address)))
        #expect(lab.host.bindings.isEmpty, "outbound rules are removed all the same")
        #expect(lab.wire.answerTable.current.proxyLists.values.allSatisfy { $0.vips.isEmpty })
    }

    @Test("preempt: true moves the VIP back to its preferred agent after hold-down and preempt delay; others stay")
    func preemptMovesBack() async throws {
        let preempting = VIPConfiguration(address: IPv4Address("198.18.0.120")!, preferred: ["eth0"], preempt: true)
        let sticky = VIPConfiguration(address: IPv4Address("198.18.0.121")!, preferred: ["eth0"], preempt: false)
        let lab = EngineLab(vips: [preempting, sticky])
        lab.allLinksUp()
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" && $0.agent == "eth0" } })
        lab.wire.setSegment("eth0", nil)
        lab.link("eth0", carrier: false)
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" && $0.agent == "eth1" } })
        lab.wire.setSegment("eth0", EngineLab.lan)
        lab.link("eth0")
        // Hold-down 2 s after the failure, then the preempt delay 5 s: nothing moves before.
        await lab.advance(.seconds(6), step: .milliseconds(250))
        #expect(await lab.vipsSatisfy { $0.agent == "eth1" }, "moved back too early")
        await lab.advance(.seconds(2), step: .milliseconds(250))
        let moved = await lab.eventually {
            let vips = await lab.status().vips
            return vips.first { $0.vip == preempting.address }?.agent == "eth0"
                && vips.first { $0.vip == preempting.address }?.state == "active"
        }
        #expect(moved)
        let status = await lab.status()
        #expect(status.vips.first { $0.vip == sticky.address }?.agent == "eth1", "a VIP without preempt stays")
        #expect(lab.wire.answerTable.current.proxyLists["eth1"]?.contains(preempting.address) != true)
        await lab.stop()
    }

    @Test("a VIP with no eligible adapter waits in pending and says why")
    func pendingWithReason() async throws {
        let lab = EngineLab(vips: vipRange("198.18.0.50", count: 3))
        lab.link("eth0", carrier: false)
        lab.link("eth1", adminUp: false, carrier: false)
        // eth2 never reports: activation starts after the startup grace.
        await lab.advance(Engine.startupGrace + .milliseconds(100))
        let waiting = await lab.eventually {
            await lab.vipsSatisfy { $0.detail == "pending(no eligible adapter)" }
        }
        #expect(waiting)
        #expect(lab.wire.sentFrames.isEmpty)
        #expect(lab.wire.answerTable.current.proxyLists.isEmpty)
        // An adapter appears: the waiting VIPs activate.
        lab.link("eth1")
        lab.link("eth2")
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" && $0.agent == "eth1" } })
        await lab.stop()
    }

    @Test("an adapter cut off from the segment is never confirmed; the VIP moves to one that is heard")
    func cutOffAdapter() async throws {
        let vips = vipRange("198.18.0.60", count: 2, preferred: ["eth0"])
        let lab = EngineLab(vips: vips)
        lab.wire.setSegment("eth0", nil)  // carrier, but not on the segment
        lab.allLinksUp()
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "broadcast" && $0.agent == "eth0" } })
        // confirm timeout 250 ms, 2 retransmissions: unconfirmed after 750 ms.
        await lab.advance(.milliseconds(1000))
        let moved = await lab.eventually { await lab.vipsSatisfy { $0.state == "active" && $0.agent == "eth1" } }
        #expect(moved)
        let status = await lab.status()
        #expect(status.adapters.first { $0.name == "eth0" }?.eligible == false)
        #expect(status.vips.allSatisfy { $0.confirmation == "heard by eth2" }, "\(status.vips.map { $0.confirmation ?? "-" })")
        // eth0 sent round 1 three times (1 + 2 retransmissions), two frames each, per VIP.
        #expect(lab.wire.sentFrames.filter { $0.adapter == "eth0" }.count == 2 * 3 * vips.count)
        #expect(lab.wire.answerTable.current.proxyLists["eth0"] == nil)
        let states = lab.trace.records.filter { $0.subject == .vip(vips[0].address) }.map(\.to)
        #expect(!states.contains { $0.hasPrefix("active(eth0") }, "never active on the cut-off adapter")
        await lab.stop()
    }

    @Test("one VIP's announcements lost while the adapter is otherwise heard: only that VIP moves, the adapter stays eligible")
    func lostAnnouncementsDoNotCondemnAHeardAdapter() async throws {
        let heard = VIPConfiguration(address: IPv4Address("198.18.0.130")!, preferred: ["eth0"])
        let lost = VIPConfiguration(address: IPv4Address("198.18.0.131")!, preferred: ["eth0"])
        let lab = EngineLab(vips: [heard, lost])
        lab.wire.setLost([lost.address])
        lab.allLinksUp()
        #expect(await lab.eventually {
            await lab.status().vips.first { $0.vip == heard.address }?.state == "active"
        })
        // 250 ms confirm timeout, 2 retransmissions: unconfirmed at 750 ms, then the next agent.
        await lab.advance(.milliseconds(800))
        lab.wire.setLost([])
        await lab.advance(.milliseconds(500))
        let moved = await lab.eventually {
            await lab.status().vips.first { $0.vip == lost.address }.map { $0.state == "active" && $0.agent != "eth0" } ?? false
        }
        #expect(moved)
        let status = await lab.status()
        #expect(status.vips.first { $0.vip == heard.address }?.agent == "eth0")
        #expect(status.adapters.first { $0.name == "eth0" }?.eligible == true, "eth0 is heard: not cut off")
        await lab.stop()
    }

    @Test("announcements repeat 3 times, more than 1 s apart, then stop")
    func announcementRounds() async throws {
        let lab = EngineLab(vips: vipRange("198.18.0.70", count: 1))
        lab.allLinksUp()
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" } })
        await lab.advance(.seconds(5), step: .milliseconds(100))
        let frames = lab.wire.sentFrames
        #expect(frames.count == 6)
        let status = try #require(await lab.status().vips.first)
        #expect(status.announcementsSent == 3)
        #expect(status.announcementsConfirmed == 1, "one confirmed activation")
        let times = stride(from: 0, to: frames.count, by: 2).map { frames[$0].at }
        for (earlier, later) in zip(times, times.dropFirst()) {
            #expect(later.duration(since: earlier) > .seconds(1))
        }
        await lab.stop()
    }

    @Test("with the periodic refresh on, every VIP's timer waits in one sleeping task, and the refresh rounds go out")
    func refreshTimersShareOneSleeper() async throws {
        let lab = EngineLab(vips: vipRange("198.19.0.1", count: 300), timers: TimerConfiguration(refreshInterval: .seconds(10)))
        lab.allLinksUp()
        #expect(await lab.eventually(20_000) { await lab.vipsSatisfy { $0.state == "active" } })
        await lab.advance(.seconds(5), step: .milliseconds(100))
        #expect(await lab.vipsSatisfy { $0.announcementsSent == 3 })
        // 300 refresh timers armed; a task per timer would be 300 sleepers.
        #expect(lab.clock.sleeperCount == 1)
        await lab.advance(.seconds(10), step: .milliseconds(100))
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.announcementsSent == 4 } })
        #expect(lab.clock.sleeperCount == 1)
        await lab.stop()
    }

    @Test("reload withdraws removed VIPs, activates added ones, and leaves the rest alone")
    func reloadAppliesDifference() async throws {
        let original = vipRange("198.18.0.80", count: 4)
        let lab = EngineLab(vips: original)
        lab.allLinksUp()
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" } })
        let before = await lab.status()
        let sentBefore = lab.wire.sentFrames.count

        let added = VIPConfiguration(address: IPv4Address("198.18.0.90")!)
        let kept = Array(original.dropFirst())
        var configuration = DaemonConfiguration(
            adapters: EngineLab.adapters.map { AdapterConfiguration(name: $0.0) }, vips: kept + [added]
        )
        configuration.timers = TimerConfiguration()
        configuration.conflicts = ConflictConfiguration(probeWait: .milliseconds(200))  // the daemon's default
        let summary = await lab.engine.apply(configuration)
        #expect(summary == ReloadSummary(added: 1, removed: 1, changed: 0))
        #expect(await lab.eventually { await lab.engine.actor(for: added.address) != nil })
        await lab.advance(.milliseconds(250))  // the added VIP's probe round
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" } })
        let after = await lab.status()
        #expect(!after.vips.contains { $0.vip == original[0].address })
        #expect(!lab.host.loopback.contains(original[0].address))
        #expect(!lab.wire.answerTable.current.proxyLists.values.contains { $0.contains(original[0].address) })
        for vip in kept {
            #expect(after.vips.first { $0.vip == vip.address }?.agent == before.vips.first { $0.vip == vip.address }?.agent)
        }
        // Only the added VIP was probed for, then announced.
        let sent = lab.wire.sentFrames.dropFirst(sentBefore).compactMap { frame -> ARPFrame? in
            guard case .arp(let parsed) = FrameParser.parse(frame.bytes) else { return nil }
            return parsed
        }
        #expect(Set(sent.filter { $0.kind == .probe }.map(\.arp.targetIP)) == [added.address.ipv4!])
        #expect(Set(sent.filter { $0.kind != .probe }.map(\.arp.senderIP)) == [added.address.ipv4!])
        await lab.stop()
    }

    @Test("the trace of a real run, dumped as JSON Lines, replays into fresh machines with the same actions")
    func traceReplays() async throws {
        let lab = EngineLab(vips: Self.hundredVIPs)
        lab.allLinksUp()
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" } })
        lab.wire.setSegment("eth1", nil)
        lab.link("eth1", carrier: false)
        #expect(await lab.eventually { await lab.vipsSatisfy { $0.state == "active" && $0.agent != "eth1" } })
        await lab.advance(.seconds(3), step: .milliseconds(200))
        await lab.stop()

        let records = lab.trace.records
        #expect(records.count > 500)
        let encoder = JSONEncoder()
        let lines = try records.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        let decoded = try lines.map { try JSONDecoder().decode(MachineTraceRecord.self, from: Data($0.utf8)) }
        #expect(decoded == records)
        let report = TraceReplay.replay(decoded)
        #expect(report.divergences.isEmpty, "\(report.divergences.prefix(5))")
        #expect(report.replayed == records.count)
    }
}
