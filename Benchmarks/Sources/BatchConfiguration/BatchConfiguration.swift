import Benchmark

/// The configuration of the suites that measure a batch of 256 frames (FastPath,
/// AnswerTable): one place for the scaling and the thresholds they are checked against.
public enum BatchConfiguration {
    /// Wall clock, instructions, mallocs and throughput per batch, checked at p90. A
    /// function, not a stored value: `Benchmark.Configuration` is not `Sendable`.
    public static func standard() -> Benchmark.Configuration {
        Benchmark.Configuration(
        metrics: [.wallClock, .instructions, .mallocCountTotal, .throughput],
        warmupIterations: 10,
        // 1,000 batches per measured iteration: the harness's own ~16 allocations per
        // iteration (see "Empty iteration") fall below one per batch; metrics are per batch.
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 20_000,
        // Checked against Thresholds/<toolchain>/ (p90): no allocation at all, and
        // instructions within 5 % of the stored count. Wall clock is too noisy here.
        thresholds: [
            .mallocCountTotal: .init(absolute: [.p90: 0]),
            .instructions: .init(relative: [.p90: 5.0]),
        ]
        )
    }
}
