import Benchmark

/// The configuration of the suites that measure a batch of 256 frames (FastPath,
/// AnswerTable): one place for the scaling and the tolerances they are checked with.
public enum BatchConfiguration {
    /// Wall clock, mallocs and throughput; one measured iteration is one batch of 256
    /// frames, so every sample is a batch's own count. A function, not a stored value:
    /// `Benchmark.Configuration` is not `Sendable`.
    ///
    /// No `.instructions` here: on Linux that metric makes the harness read `/proc/self/io`
    /// and `/proc/self/stat` at the start and the end of every measured iteration, inside
    /// the malloc-counting window (16 allocations of the harness's own per iteration, even
    /// for an empty loop), and this machine has no perf counters to read anyway.
    /// Instructions per frame are counted by callgrind instead (`scripts/check-instructions.sh`).
    public static func standard() -> Benchmark.Configuration {
        Benchmark.Configuration(
            metrics: metrics,
            warmupIterations: 10,
            scalingFactor: .one,
            maxDuration: .seconds(2),
            maxIterations: 20_000,
            thresholds: thresholds
        )
    }

    /// The metrics: none that makes the harness allocate while measuring.
    public static var metrics: [BenchmarkMetric] { [.wallClock, .mallocCountTotal, .throughput] }

    /// Tolerances for `thresholds check` against the p90 values stored in
    /// Thresholds/<toolchain>/ (the stored value is the threshold; these say how far a run
    /// may deviate from it): none at all for the malloc count. Only `mallocCountTotal` is
    /// stored: wall clock and throughput are too noisy on shared cores to gate on.
    public static var thresholds: [BenchmarkMetric: BenchmarkThresholds] {
        [.mallocCountTotal: .init(absolute: [.p90: 0])]
    }
}
