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
}
