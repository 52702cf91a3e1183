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

    // One selector publication with 10,000 VIPs of one family on one adapter, as
    // SelectorActor.publish does after each activation: the proxy list changes by one VIP
    // (removed and put back, so the size stays) while the previous table is still published,
    // then the new table is published. The IPv4 list is a sharded AddressSet (a change copies
    // one shard); the IPv6 list is a plain Set<IPv6Address> (issue 13: copied whole).
    for family in ["IPv4", "IPv6"] {
        let publisher = AnswerTablePublisher()
        nonisolated(unsafe) var list = VIPAddressSet((0..<10_000).map { index -> IPAddress in
            family == "IPv4" ? .v4(Fixtures.vip(index)) : .v6(IPv6Address(high: 0x2001_0db8_0000_0000, low: 0x1_0000 + UInt64(index)))
        })
        let moved: IPAddress = family == "IPv4" ? .v4(Fixtures.vip(4_321)) : .v6(IPv6Address(high: 0x2001_0db8_0000_0000, low: 0x1_0000 + 4_321))
        nonisolated(unsafe) var generation: UInt64 = 0
        Benchmark(
            "Publication-with-10000-\(family)-VIPs",
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
