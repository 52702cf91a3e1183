/// A value a ``ShardedSet`` can hold: hashable, with a shard picked from its own bits.
public protocol ShardedSetElement: Hashable, Sendable {
    /// The shard of `element`, in `0..<256` (``ShardedSet/shardCount``): a cheap mix of its
    /// bits that spreads consecutive addresses over every shard.
    static func shard(of element: Self) -> Int
}

/// A set split into 256 shards, so that a copy-on-write snapshot is cheap to change:
/// inserting one element into a set that a published ``AnswerTable`` still shares copies
/// one shard (about 1/256 of the set), not the whole set.
///
/// The selector publishes a new table whenever a VIP enters or leaves a proxy list; with
/// a plain `Set` every such change copied every VIP (quadratic when 10,000 VIPs activate).
/// Lookup stays O(1): one multiply to pick the shard, one hash probe inside it. Both
/// families use it: ``AddressSet`` (IPv4, the ARP path) and ``IPv6AddressSet`` (IPv6, the
/// Neighbor Discovery path).
public struct ShardedSet<Element: ShardedSetElement>: Sendable, Equatable {
    /// Shards; an element lives in shard `Element.shard(of:)`.
    @usableFromInline var shards: [Set<Element>]
    /// Number of elements.
    public private(set) var count: Int

    /// Number of shards.
    public static var shardCount: Int { 256 }

    /// An empty set.
    public init() {
        shards = Array(repeating: [], count: Self.shardCount)
        count = 0
    }

    /// A set of `elements`.
    public init<S: Sequence>(_ elements: S) where S.Element == Element {
        self.init()
        for element in elements { insert(element) }
    }

    /// True when `element` is in the set. O(1), no allocation.
    ///
    /// Inlined into other modules. Inside Core, an `@inlinable` caller with a concrete
    /// element type would compile a second `Set.contains` specialization that the answer
    /// path then calls through a thunk: see ``ProxyList/contains(_:)``.
    @inlinable
    public func contains(_ element: Element) -> Bool {
        shards[Element.shard(of: element)].contains(element)
    }

    /// True when the set is empty.
    public var isEmpty: Bool { count == 0 }

    /// Adds `element`; returns false when it was already there.
    @discardableResult
    public mutating func insert(_ element: Element) -> Bool {
        let inserted = shards[Element.shard(of: element)].insert(element).inserted
        if inserted { count += 1 }
        return inserted
    }

    /// Removes `element`; returns false when it was not there.
    @discardableResult
    public mutating func remove(_ element: Element) -> Bool {
        let removed = shards[Element.shard(of: element)].remove(element) != nil
        if removed { count -= 1 }
        return removed
    }

    /// Every element, in no particular order.
    public var elements: [Element] { shards.flatMap { $0 } }

    /// This set and `other` together. Shards that only one side fills, that both share, or
    /// whose `other` part is already here are kept as they are (no copy).
    public func union(_ other: ShardedSet) -> ShardedSet {
        var result = self
        for index in 0..<Self.shardCount where !other.shards[index].isEmpty && result.shards[index] != other.shards[index] {
            if result.shards[index].isEmpty {
                result.shards[index] = other.shards[index]
                result.count += other.shards[index].count
            } else {
                // Only what is missing: an insert copies a shared shard even when present.
                for element in other.shards[index] where !result.shards[index].contains(element) { result.insert(element) }
            }
        }
        return result
    }

    /// What changed from `old` to this set, shard by shard: shards the two still share
    /// (copy-on-write keeps unchanged shards identical, and `Set`'s `==` sees that at once)
    /// cost nothing, so one VIP entering a table of 100,000 costs about one shard.
    public func changes(from old: ShardedSet) -> (added: [Element], removed: [Element]) {
        var added: [Element] = []
        var removed: [Element] = []
        for index in 0..<Self.shardCount {
            let new = shards[index]
            let before = old.shards[index]
            if new == before { continue }
            for element in new where !before.contains(element) { added.append(element) }
            for element in before where !new.contains(element) { removed.append(element) }
        }
        return (added, removed)
    }
}

extension ShardedSet: Sequence {
    /// Walks the shards in order, each shard's elements in `Set` order.
    public struct Iterator: IteratorProtocol {
        private var shards: IndexingIterator<[Set<Element>]>
        private var current: Set<Element>.Iterator?

        init(_ shards: [Set<Element>]) {
            self.shards = shards.makeIterator()
        }

        /// The next element, or nil after the last shard.
        public mutating func next() -> Element? {
            while true {
                if let element = current?.next() { return element }
                guard let shard = shards.next() else { return nil }
                current = shard.makeIterator()
            }
        }
    }

    /// An iterator over every element, in no particular order.
    public func makeIterator() -> Iterator { Iterator(shards) }

    /// The number of elements.
    public var underestimatedCount: Int { count }
}

extension ShardedSet: ExpressibleByArrayLiteral {
    /// A set of the literal's elements.
    public init(arrayLiteral elements: Element...) {
        self.init(elements)
    }
}

/// A sharded set of IPv4 addresses: proxy lists and watched VIPs of the ARP answer path.
public typealias AddressSet = ShardedSet<IPv4Address>

/// A sharded set of IPv6 addresses: proxy lists and watched VIPs of the Neighbor
/// Discovery answer path.
public typealias IPv6AddressSet = ShardedSet<IPv6Address>

extension IPv4Address: ShardedSetElement {
    /// Fibonacci hashing of the 32-bit value: the top 8 bits of its product with 2^32/φ.
    @inlinable
    public static func shard(of address: IPv4Address) -> Int {
        Int(truncatingIfNeeded: (address.rawValue &* 0x9E37_79B1) >> 24)
    }
}

extension IPv6Address: ShardedSetElement {
    /// Fibonacci hashing of the 64-bit halves (the high half mixed first, so that addresses
    /// that differ only there spread too): the top 8 bits of the product with 2^64/φ.
    @inlinable
    public static func shard(of address: IPv6Address) -> Int {
        let mixed = (address.low ^ (address.high &* 0xC2B2_AE3D_27D4_EB4F)) &* 0x9E37_79B9_7F4A_7C15
        return Int(truncatingIfNeeded: mixed >> 56)
    }
}

/// The empty sets, made once: an empty ``ShardedSet`` allocates its 256 shards, and a view
/// for an adapter without VIPs must not allocate.
private let emptyAddressSet = AddressSet()
private let emptyIPv6AddressSet = IPv6AddressSet()

extension ShardedSet where Element == IPv4Address {
    /// The empty set, shared (no allocation).
    public static var empty: AddressSet { emptyAddressSet }
}

extension ShardedSet where Element == IPv6Address {
    /// The empty set, shared (no allocation).
    public static var empty: IPv6AddressSet { emptyIPv6AddressSet }
}
