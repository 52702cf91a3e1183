/// The address families a bench run measures: ARP requests for IPv4 addresses, Neighbor
/// Solicitations for IPv6 ones.
enum BenchFamily: String, CaseIterable, Sendable {
    /// ARP: the ceiling, kernel, 1-VIP and large-table ladders, failover and activation.
    case arp
    /// Neighbor Discovery: the ceiling, kernel and 1-IPv6-VIP ladders (and a large IPv6 table on request).
    case ndp
}

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
    /// The families measured (ARP rows, NDP rows, or both in the same run and lab).
    var families: Set<BenchFamily> = [.arp, .ndp]
    /// IPv6 VIPs of the large-table NDP ladder; 0 skips it.
    var largeIPv6VIPs = 0
}
