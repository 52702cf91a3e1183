import ProxyARPCore

/// Finds VIPs that stay out of `active`.
///
/// **A stuck VIP.** A configured VIP (listed in status, not `withdrawn`) is stuck when it
/// was seen not `active` in every status snapshot over more than ``bound`` nanoseconds:
/// from the first snapshot that showed it not active to the current one, with no snapshot
/// in between showing it active. Every event of the soak (a carrier flap, a reload) moves
/// a VIP back to `active` within a second or so (the failover, the new agent's hold-down
/// and announcement), so a VIP still not active a bound later was not brought back by
/// the last event that could move it. The clock starts at the first snapshot showing it
/// not active, which is never earlier than that event: stricter than counting from the
/// event itself.
public struct SoakStuckTracker: Sendable {
    /// How long a VIP may be seen not active, nanoseconds.
    public let bound: Int64
    /// Every VIP ever stuck, with the longest time it was seen not active (nanoseconds).
    public private(set) var everStuck: [IPv4Address: Int64] = [:]
    private var notActiveSince: [IPv4Address: Int64] = [:]

    /// Creates a tracker.
    public init(bound: Int64) {
        self.bound = bound
    }

    /// Takes one status snapshot (`states`: every VIP listed, by its state word) taken at
    /// `at`; returns the VIPs stuck now.
    @discardableResult
    public mutating func observe(at: Int64, states: [IPv4Address: String]) -> [IPv4Address] {
        var stuck: [IPv4Address] = []
        var seen: [IPv4Address: Int64] = [:]
        for (vip, state) in states where state != "active" && state != "withdrawn" {
            let since = notActiveSince[vip] ?? at
            seen[vip] = since
            if at - since > bound {
                stuck.append(vip)
                everStuck[vip] = max(everStuck[vip] ?? 0, at - since)
            }
        }
        notActiveSince = seen
        return stuck.sorted()
    }
}
