/// A set of IPv4 addresses split into 256 shards, so that a copy-on-write snapshot is
/// cheap to change: inserting one address into a set that a published ``AnswerTable``
/// still shares copies one shard (about 1/256 of the set), not the whole set.
///
/// The selector publishes a new table whenever a VIP enters or leaves a proxy list; with
/// a plain `Set` every such change copied every VIP (quadratic when 10,000 VIPs activate).
/// Lookup stays O(1): one multiply to pick the shard, one hash probe inside it.
public struct AddressSet: Sendable, Equatable {
    /// Shards; an address lives in shard ``shard(of:)``.
    @usableFromInline var shards: [Set<IPv4Address>]
    /// Number of addresses.
    public private(set) var count: Int

    /// Number of shards.
    public static let shardCount = 256

    /// An empty set.
    public init() {
        shards = Array(repeating: [], count: Self.shardCount)
        count = 0
    }

    /// A set of `addresses`.
    public init<S: Sequence>(_ addresses: S) where S.Element == IPv4Address {
        self.init()
        for address in addresses { insert(address) }
    }

    /// The shard of `address` (Fibonacci hashing of the 32-bit value).
    @inlinable
    static func shard(of address: IPv4Address) -> Int {
        Int(truncatingIfNeeded: (address.rawValue &* 0x9E37_79B1) >> 24)
    }

    /// True when `address` is in the set. O(1), no allocation.
    @inlinable
    public func contains(_ address: IPv4Address) -> Bool {
        shards[Self.shard(of: address)].contains(address)
    }

    /// True when the set is empty.
    public var isEmpty: Bool { count == 0 }

    /// Adds `address`; returns false when it was already there.
    @discardableResult
    public mutating func insert(_ address: IPv4Address) -> Bool {
        let inserted = shards[Self.shard(of: address)].insert(address).inserted
        if inserted { count += 1 }
        return inserted
    }

    /// Removes `address`; returns false when it was not there.
    @discardableResult
    public mutating func remove(_ address: IPv4Address) -> Bool {
        let removed = shards[Self.shard(of: address)].remove(address) != nil
        if removed { count -= 1 }
        return removed
    }

    /// Every address, in no particular order.
    public var elements: [IPv4Address] { shards.flatMap { $0 } }

    /// What changed from `old` to this set, shard by shard: shards the two still share
    /// (copy-on-write keeps unchanged shards identical, and `Set`'s `==` sees that at once)
    /// cost nothing, so one VIP entering a table of 100,000 costs about one shard.
    public func changes(from old: AddressSet) -> (added: [IPv4Address], removed: [IPv4Address]) {
        var added: [IPv4Address] = []
        var removed: [IPv4Address] = []
        for index in 0..<Self.shardCount {
            let new = shards[index]
            let before = old.shards[index]
            if new == before { continue }
            for address in new where !before.contains(address) { added.append(address) }
            for address in before where !new.contains(address) { removed.append(address) }
        }
        return (added, removed)
    }
}

extension AddressSet: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: IPv4Address...) {
        self.init(elements)
    }
}
