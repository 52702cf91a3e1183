import BatchConfiguration
import Benchmark
import BenchmarkFixtures
import ProxyARPCore

// The proxy-list lookup as the answer path does it: a batch of 256 requests for VIPs
// spread over the table, decided against views of 1, 1,000 and 100,000 VIPs. The
// target (issue 5): the rate at 100,000 VIPs within 5 % of the rate at 1 VIP.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = BatchConfiguration.standard()
    let reply = UnsafeMutableRawBufferPointer.allocate(byteCount: AnswerKernel.replyCapacity, alignment: 8)
    nonisolated(unsafe) let replyBuffer = reply

    for vipCount in [1, 1_000, 100_000] {
        let view = Fixtures.view(vipCount: vipCount)
        let batch = Fixtures.batch(count: 256, vipCount: vipCount)
        // Per-VIP reply counts, emptied after each batch with their capacity kept.
        nonisolated(unsafe) var repliesByVIP: [IPv4Address: UInt32] = [:]
        Benchmark("Batch-256-at-\(vipCount)-VIPs") { benchmark in
            for _ in benchmark.scaledIterations {
                let replies = answerBatch(batch, view: view, reply: replyBuffer, repliesByVIP: &repliesByVIP)
                precondition(replies == 256)
                blackHole(replies)
            }
        }
    }

    // Building one adapter's view from a published table of 100,000 VIPs: what the I/O
    // thread does once per table change (not per frame).
    let vips = AddressSet((0..<100_000).map(Fixtures.vip))
    let table = AnswerTable(
        generation: 1,
        proxyLists: ["h0": ProxyList(agentMAC: Fixtures.adapterMAC, vips: vips)],
        watchedVIPs: vips,
        ownMACs: [Fixtures.adapterMAC]
    )
    Benchmark("View-for-one-adapter-from-100000-VIPs", configuration: .init(metrics: [.wallClock, .mallocCountTotal], maxIterations: 1_000, thresholds: [:])) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(table.view(for: "h0", mac: Fixtures.adapterMAC))
        }
    }

    // One selector publication with 10,000 or 100,000 VIPs of one family on one adapter, as
    // SelectorActor.publish does after each activation: the proxy list changes by one VIP
    // (removed and put back, so the size stays) while the previous table is still published,
    // then the new table is published. Both families' lists are sharded sets (AddressSet,
    // IPv6AddressSet): a change copies one shard of 256, not the list (issue 13: the IPv6
    // list was a plain Set, copied whole, 23 µs against 8 µs at 10,000).
    for vipCount in [10_000, 100_000] {
        for family in ["IPv4", "IPv6"] {
            let publisher = AnswerTablePublisher()
            func vip(_ index: Int) -> IPAddress {
                family == "IPv4" ? .v4(Fixtures.vip(index)) : .v6(IPv6Address(high: 0x2001_0db8_0000_0000, low: 0x1_0000 + UInt64(index)))
            }
            nonisolated(unsafe) var list = VIPAddressSet((0..<vipCount).map(vip))
            let moved = vip(4_321)
            nonisolated(unsafe) var generation: UInt64 = 0
            Benchmark(
                "Publication-with-\(vipCount)-\(family)-VIPs",
                configuration: .init(metrics: [.wallClock, .mallocCountTotal], maxIterations: 2_000, thresholds: [:])
            ) { benchmark in
                for _ in benchmark.scaledIterations {
                    list.remove(moved)
                    list.insert(moved)
                    generation += 1
                    publisher.publish(AnswerTable(
                        generation: generation,
                        proxyLists: list.ipv4.isEmpty ? [:] : ["h0": ProxyList(agentMAC: Fixtures.adapterMAC, vips: list.ipv4)],
                        watchedVIPs: list.ipv4, ownMACs: [Fixtures.adapterMAC],
                        ipv6: IPv6AnswerTable(proxyLists: list.ipv6.isEmpty ? [:] : ["h0": list.ipv6], watchedVIPs: list.ipv6)))
                }
            }
        }
    }
}
