import ProxyARPCore
import ProxyARPTestSupport
import Testing

/// ``ShardedSet`` (``AddressSet``, ``IPv6AddressSet``) against a plain `Set` as the model:
/// random inserts, removes and lookups over addresses spread across every shard and crowded
/// into a few, with snapshots kept as a published ``AnswerTable`` keeps them.
@Suite("Sharded address sets against a model")
struct ShardedSetTests {
    /// Addresses to draw from: runs of consecutive addresses (every shard), several
    /// addresses of shards 0, 1 and 255 (the boundaries, crowded), and random ones.
    static func pool<Element: ShardedSetElement>(
        start: Element, advanced: (Element, Int) -> Element, random: (inout SplitMix64) -> Element,
        using generator: inout SplitMix64
    ) -> [Element] {
        var pool: [Element] = (0..<600).map { advanced(start, $0) }
        var crowded: [Int: Int] = [0: 0, 1: 0, 255: 0]
        var offset = 1_000
        while crowded.values.contains(where: { $0 < 8 }), offset < 1_000_000 {
            let candidate = advanced(start, offset)
            let shard = Element.shard(of: candidate)
            if let seen = crowded[shard], seen < 8 {
                crowded[shard] = seen + 1
                pool.append(candidate)
            }
            offset += 1
        }
        for _ in 0..<200 { pool.append(random(&generator)) }
        return pool
    }

    static func ipv4Pool(_ generator: inout SplitMix64) -> [IPv4Address] {
        pool(
            start: IPv4Address(rawValue: 0xC612_0000), advanced: { $0.advanced(by: UInt32($1))! },
            random: { IPv4Address(rawValue: UInt32.random(in: 0...UInt32.max, using: &$0)) }, using: &generator)
    }

    static func ipv6Pool(_ generator: inout SplitMix64) -> [IPv6Address] {
        pool(
            start: IPv6Address(high: 0x2001_0db8_0000_0001, low: 0xFFFF_FFFF_FFFF_FF00), advanced: { $0.advanced(by: UInt64($1))! },
            random: { IPv6Address(high: 0x2001_0db8_0000_0000 | UInt64.random(in: 0...0xFFFF, using: &$0), low: $0.next()) },
            using: &generator)
    }

    /// Runs `steps` random operations on a sharded set and a `Set` side by side; returns
    /// every disagreement (empty when the sharded set behaved as the model).
    static func disagreements<Element: ShardedSetElement>(
        pool: [Element], steps: Int, using generator: inout SplitMix64
    ) -> [String] {
        var problems: [String] = []
        func expect(_ condition: Bool, _ what: @autoclosure () -> String) {
            if !condition, problems.count < 20 { problems.append(what()) }
        }
        var set = ShardedSet<Element>()
        var model = Set<Element>()
        // A published snapshot: later changes must not reach it (copy-on-write per shard).
        var snapshot = set
        var snapshotModel = model
        for step in 0..<steps {
            let element = pool.randomElement(using: &generator)!
            switch Int.random(in: 0..<10, using: &generator) {
            case 0..<4:
                expect(set.insert(element) == model.insert(element).inserted, "step \(step): insert \(element)")
            case 4..<7:
                expect(set.remove(element) == (model.remove(element) != nil), "step \(step): remove \(element)")
            case 7..<9:
                expect(set.contains(element) == model.contains(element), "step \(step): contains \(element)")
            default:
                // Publish: what changed since the last snapshot is the model's difference.
                let changes = set.changes(from: snapshot)
                expect(Set(changes.added) == model.subtracting(snapshotModel), "step \(step): added")
                expect(Set(changes.removed) == snapshotModel.subtracting(model), "step \(step): removed")
                expect(changes.added.count + changes.removed.count == model.symmetricDifference(snapshotModel).count,
                       "step \(step): a change reported twice")
                snapshot = set
                snapshotModel = model
            }
            expect(set.count == model.count, "step \(step): count \(set.count), model \(model.count)")
            expect(set.isEmpty == model.isEmpty, "step \(step): isEmpty")
            expect(snapshot.count == snapshotModel.count, "step \(step): the snapshot changed")
        }
        expect(Set(set.elements) == model && set.elements.count == model.count, "elements")
        expect(Set(set) == model && Array(set).count == model.count, "iteration")
        expect(set == ShardedSet(model), "a set built from the model is not equal")
        expect(pool.allSatisfy { set.contains($0) == model.contains($0) }, "final lookups")
        expect(pool.allSatisfy { snapshot.contains($0) == snapshotModel.contains($0) }, "the snapshot's lookups")
        let other = Set(pool.filter { _ in Bool.random(using: &generator) })
        let union = set.union(ShardedSet(other))
        expect(Set(union) == model.union(other) && union.count == model.union(other).count, "union")
        expect(set.union(set) == set && set.union(ShardedSet()) == set && ShardedSet().union(set) == set, "union with itself or empty")
        return problems
    }

    @Test("IPv4: inserts, removes, lookups, snapshots and unions agree with a Set", arguments: [1, 2, 3, 4])
    func ipv4AgreesWithModel(seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        let pool = Self.ipv4Pool(&generator)
        #expect(Set(pool.map(IPv4Address.shard(of:))).count == AddressSet.shardCount, "the pool misses shards")
        let problems = Self.disagreements(pool: pool, steps: 20_000, using: &generator)
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test("IPv6: inserts, removes, lookups, snapshots and unions agree with a Set", arguments: [1, 2, 3, 4])
    func ipv6AgreesWithModel(seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        let pool = Self.ipv6Pool(&generator)
        #expect(Set(pool.map(IPv6Address.shard(of:))).count == IPv6AddressSet.shardCount, "the pool misses shards")
        // The run crosses the low half's carry (…:ffff:ff00 + 600), so both halves change.
        #expect(Set(pool.map(\.high)).count > 2)
        let problems = Self.disagreements(pool: pool, steps: 20_000, using: &generator)
        #expect(problems.isEmpty, "\(problems)")
    }

    /// Largest shard of `elements` against the mean.
    static func spread<Element: ShardedSetElement>(_ elements: [Element]) -> (filled: Int, largest: Int, mean: Int) {
        var sizes = [Int](repeating: 0, count: ShardedSet<Element>.shardCount)
        for element in elements { sizes[Element.shard(of: element)] += 1 }
        return (sizes.filter { $0 > 0 }.count, sizes.max()!, elements.count / sizes.count)
    }

    @Test("Consecutive VIPs, and IPv6 VIPs that differ only in their prefix, fill every shard evenly")
    func shardsAreEven() {
        let ipv4 = Self.spread((0..<100_000).map { IPv4Address(rawValue: 0xC613_0000 + UInt32($0)) })
        #expect(ipv4.filled == 256 && ipv4.largest < 2 * ipv4.mean, "\(ipv4)")
        let ipv6 = Self.spread((0..<100_000).map { IPv6Address(high: 0x2001_0db8_0000_0000, low: 0x1_0000 + UInt64($0)) })
        #expect(ipv6.filled == 256 && ipv6.largest < 2 * ipv6.mean, "\(ipv6)")
        // 2^20 addresses: issue 13's largest IPv6 cidr.
        let cidr = Self.spread((0..<(1 << 20)).map { IPv6Address(high: 0x2001_0db8_0000_0005, low: UInt64($0)) })
        #expect(cidr.filled == 256 && cidr.largest < 2 * cidr.mean, "\(cidr)")
        let prefixes = Self.spread((0..<25_600).map { IPv6Address(high: 0x2001_0db8_0000_0000 | UInt64($0), low: 1) })
        #expect(prefixes.filled == 256 && prefixes.largest < 2 * prefixes.mean, "\(prefixes)")
    }

    @Test("One VIP added to a set of 10,000 IPv6 VIPs: the snapshot is untouched and the change is that VIP alone")
    func oneChangeAgainstASnapshot() {
        let before = IPv6AddressSet((0..<10_000).map { IPv6Address(high: 0x2001_0db8_0000_0000, low: UInt64($0)) })
        var after = before
        let added = IPv6Address(high: 0x2001_0db8_0000_0000, low: 20_000)
        after.insert(added)
        #expect(after.changes(from: before).added == [added])
        #expect(after.changes(from: before).removed.isEmpty)
        #expect(!before.contains(added) && after.contains(added) && after.count == before.count + 1)
    }
}
