/// Rendezvous (highest random weight) hashing: every host computes, for each unit, the same
/// order of the live hosts, so a free unit has one natural owner (rank 0), the next one
/// (rank 1) if that one cannot serve it, and units spread evenly over hosts.
///
/// The weight is FNV-1a over "host\u{0}unit", finished by splitmix64: the same on every
/// host and every run (Swift's `Hasher` is seeded per process, so it cannot be used).
/// A VIP's `preferred_hosts` come first, in their order, before the hashed rest.
public enum RendezvousRank {
    /// The weight of `host` for `unit`.
    public static func weight(host: String, unit: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in host.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        hash = (hash ^ 0) &* 0x0000_0100_0000_01b3
        for byte in unit.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        hash ^= hash >> 30
        hash = hash &* 0xbf58_476d_1ce4_e5b9
        hash ^= hash >> 27
        hash = hash &* 0x94d0_49bb_1331_11eb
        hash ^= hash >> 31
        return hash
    }

    /// The hosts in claim order for `unit`: the live preferred hosts first, in their order,
    /// then the others by descending weight (ties by name).
    public static func order(hosts: some Sequence<String>, unit: String, preferred: [String] = []) -> [String] {
        let live = Set(hosts)
        let first = preferred.filter { live.contains($0) }
        let rest = live.subtracting(first).map { (host: $0, weight: weight(host: $0, unit: unit)) }
            .sorted { $0.weight != $1.weight ? $0.weight > $1.weight : $0.host < $1.host }
            .map(\.host)
        return first + rest
    }

    /// `host`'s rank for `unit` among `hosts` (which should include it); a host missing
    /// from `hosts` ranks last.
    public static func rank(of host: String, hosts: some Sequence<String>, unit: String, preferred: [String] = []) -> Int {
        let order = order(hosts: hosts, unit: unit, preferred: preferred)
        return order.firstIndex(of: host) ?? order.count
    }
}
