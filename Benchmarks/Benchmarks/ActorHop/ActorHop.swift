import Benchmark

// ARCHITECTURE.md §5: "no actor hop per packet". 256 frames handed to an actor one hop
// each, versus one hop carrying the batch of 256. The caller is a task not isolated to
// the actor (as a capture thread outside it would be), so every call is a real hop.
// Both benchmarks handle 256 frames per iteration: divide wall clock by 256 for ns/frame.

actor FrameSink {
    private var bytes = 0
    private var frames = 0

    func handle(_ frame: UInt64) {
        frames += 1
        bytes &+= Int(truncatingIfNeeded: frame & 0xff)
    }

    func handle(batch: UnsafeBufferPointer<UInt64>) {
        for frame in batch {
            frames += 1
            bytes &+= Int(truncatingIfNeeded: frame & 0xff)
        }
    }

    var total: Int { frames }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput], // no .instructions: on Linux it makes the harness allocate while measuring (Sources/BatchConfiguration)
        warmupIterations: 10,
        scalingFactor: .one,
        maxDuration: .seconds(2)
    )
    let frames = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: 256)
    for index in frames.indices { frames[index] = UInt64(index) }
    nonisolated(unsafe) let batch = UnsafeBufferPointer(frames)

    // Measured from after the sink's creation (its allocation is set-up, not a hop) to the
    // last hop.
    Benchmark("256-frames-one-actor-hop-each") { benchmark in
        let sink = FrameSink()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for frame in batch { await sink.handle(frame) }
        }
        benchmark.stopMeasurement()
        blackHole(await sink.total)
    }

    Benchmark("256-frames-one-actor-hop-per-batch") { benchmark in
        let sink = FrameSink()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            await sink.handle(batch: batch)
        }
        benchmark.stopMeasurement()
        blackHole(await sink.total)
    }
}
