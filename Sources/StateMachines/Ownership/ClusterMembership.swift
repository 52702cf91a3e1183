import ProxyARPCore

/// The cluster's members as one host sees them: every host whose membership key
/// (`<prefix>hosts/<name>`, written under its lease) exists, whether it says it can serve,
/// and since when this host has seen it able without a break. A pure value.
///
/// Ranks for claims and the natural owner of a unit are computed over the *able* hosts
/// only (a host without an eligible NIC would otherwise be a rank-0 owner that never
/// claims); this host counts by what it knows of itself, not by its published key.
public struct ClusterMembership: Sendable, Equatable {
    /// One member.
    public struct Member: Sendable, Equatable {
        /// It says it can serve (an eligible NIC, not stopping).
        public var able: Bool
        /// When this host saw it become able (nil while it is not).
        public var ableSince: Instant?
    }

    /// This host's name.
    public let host: String
    /// The other live hosts, by name.
    public private(set) var members: [String: Member] = [:]

    /// The value a membership key carries: `able` or `unable`.
    public static func value(able: Bool) -> String { able ? "able" : "unable" }

    /// Reads a membership key's value: only `unable` says no. A host that registered with
    /// its name as the value (before it published anything, or an older proxyarpd) counts
    /// as able, as every host did before the value meant anything.
    public static func isAble(value: String) -> Bool { value != "unable" }

    /// An empty view of `host`'s cluster.
    public init(host: String) { self.host = host }

    /// `name`'s membership key was seen with `value` at `now` (listing or watch).
    /// Returns true when the set of able hosts changed.
    @discardableResult
    public mutating func seen(_ name: String, value: String, now: Instant) -> Bool {
        guard name != host else { return false }
        let able = Self.isAble(value: value)
        let before = members[name]
        if before?.able == able { return false }
        members[name] = Member(able: able, ableSince: able ? now : nil)
        return able || before != nil
    }

    /// `name`'s membership key is gone (its lease ended or it stopped). Returns true when it
    /// was an able member.
    @discardableResult
    public mutating func gone(_ name: String) -> Bool {
        members.removeValue(forKey: name)?.able == true
    }

    /// Replaces the whole view by a listing: `values` by host name, seen at `now`. Members
    /// already known able keep their `ableSince`.
    public mutating func replace(with values: [String: String], now: Instant) {
        var next: [String: Member] = [:]
        for (name, value) in values where name != host {
            let able = Self.isAble(value: value)
            if able, let known = members[name], known.able {
                next[name] = known
            } else {
                next[name] = Member(able: able, ableSince: able ? now : nil)
            }
        }
        members = next
    }

    /// The hosts a unit's claim order is computed over: the able members, and this host
    /// when `selfAble`.
    public func claimHosts(selfAble: Bool) -> [String] {
        var hosts = members.filter(\.value.able).map(\.key)
        if selfAble { hosts.append(host) }
        return hosts
    }

    /// This host's rank for `unit` among the able hosts (itself counted as able: the rank
    /// only matters while it may serve).
    public func rank(unit: String, preferred: [String]) -> Int {
        RendezvousRank.rank(of: host, hosts: claimHosts(selfAble: true), unit: unit, preferred: preferred)
    }

    /// The unit's natural owner: rank 0 among the able hosts (`preferred_hosts` first).
    public func naturalOwner(unit: String, preferred: [String], selfAble: Bool) -> String? {
        RendezvousRank.order(hosts: claimHosts(selfAble: selfAble), unit: unit, preferred: preferred).first
    }

    /// True when `name` is a member that has been able without a break for `settle` at `now`.
    public func isSettled(_ name: String, now: Instant, settle: Duration) -> Bool {
        guard let since = members[name]?.ableSince else { return false }
        return now >= since.advanced(by: settle)
    }
}
