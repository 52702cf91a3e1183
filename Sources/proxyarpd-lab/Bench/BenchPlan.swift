/// What a run does.
struct BenchPlan: Sendable {
    var quick: Bool
    var stepSeconds: Double
    var rates: [Int]
    /// The offered rate the marginal CPU per answered request is compared at (in `rates`).
    var fixedRate: Int = 50_000
    var failoverEvents: Int
    /// Activation runs: how many VIPs, in blocks of which prefix length.
    var activations: [(vips: Int, blockPrefixLength: Int)]
    var largeVIPs: Int
    var largeBlockPrefixLength: Int
}
