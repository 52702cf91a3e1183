import ProxyARPCore
import Synchronization

/// Replies sent per VIP, over all adapters, for `status`. Each capture batch tallies its
/// replies in a reusable scratch table (no allocation once warm) and merges it here once,
/// under one short lock per batch that sent replies: never a lock per frame.
public final class VIPReplyCounts: Sendable {
    private let counts = Mutex<[IPv4Address: UInt64]>([:])

    /// Creates empty counts.
    public init() {}

    /// Adds one batch's tally.
    func merge(_ tally: [IPv4Address: UInt32]) {
        guard !tally.isEmpty else { return }
        counts.withLock { counts in
            for (vip, replies) in tally { counts[vip, default: 0] &+= UInt64(replies) }
        }
    }

    /// Replies sent for each VIP so far.
    public var snapshot: [IPv4Address: UInt64] { counts.withLock { $0 } }
}
