import ProxyARPCore
import ProxyARPStateMachines
import Testing

@Suite("Block bindings (what the kernel should hold)")
struct BlockBindingsTests {
    private let first = IPv4Address("198.19.0.0")!

    private func vip(_ offset: UInt32) -> IPv4Address { first.advanced(by: offset)! }

    private func texts(_ rules: some Sequence<BlockBindings.Rule>) -> [String] { rules.map(\.description).sorted() }

    /// The longest rule covering `vip`, as the kernel picks it (most specific priority first).
    private func decidingTable(_ vip: IPv4Address, _ bindings: BlockBindings) -> UInt32? {
        bindings.rules(inBlockOf: vip).filter { $0.source.contains(vip) }.max { $0.source.prefixLength < $1.source.prefixLength }?.table
    }

    @Test("binding a block in order grows one exact rule; a moved VIP is one narrower exception")
    func rulesFollowTheBlock() {
        var bindings = BlockBindings(prefixLength: 26)
        var everAdded = 0
        for offset in 0..<64 { everAdded += bindings.bind(vip(UInt32(offset)), to: 20002).added.count }
        #expect(texts(bindings.rules(inBlockOf: vip(5))) == ["from 198.19.0.0/26 lookup 20002"])
        #expect(everAdded <= 64)

        let move = bindings.bind(vip(63), to: 20003)
        #expect(texts(move.added) == ["from 198.19.0.63/32 lookup 20003"])
        #expect(move.removed.isEmpty)
        #expect(decidingTable(vip(63), bindings) == 20003)
        #expect(decidingTable(vip(62), bindings) == 20002)
        // The next block is independent.
        #expect(bindings.rules(inBlockOf: vip(64)).isEmpty)
    }

    @Test("unbinding a whole block deletes each rule once, when its last VIP goes, and adds nothing")
    func unbindingDoesNotFragment() {
        var bindings = BlockBindings(prefixLength: 26)
        for offset in 0..<64 { _ = bindings.bind(vip(UInt32(offset)), to: 7) }
        _ = bindings.bind(vip(10), to: 8)
        var added = 0, removed: [String] = []
        for offset in (0..<64).reversed() {
            let changes = bindings.bind(vip(UInt32(offset)), to: nil)
            added += changes.added.count
            removed += changes.removed.map(\.description)
        }
        #expect(added == 0)
        #expect(removed == ["from 198.19.0.10/32 lookup 8", "from 198.19.0.0/26 lookup 7"])
        #expect(bindings.rules(inBlockOf: vip(0)).isEmpty)
    }

    @Test("random moves and unbinds: every bound VIP is always decided by a rule to its own table")
    func invariantHoldsUnderRandomChanges() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            var bindings = BlockBindings(prefixLength: 26)
            var expected: [IPv4Address: UInt32] = [:]
            for _ in 0..<400 {
                let address = vip(UInt32.random(in: 0..<128, using: &generator))
                let table: UInt32? = Int.random(in: 0..<5, using: &generator) == 0 ? nil : UInt32.random(in: 1...3, using: &generator)
                _ = bindings.bind(address, to: table)
                expected[address] = table
                for (bound, table) in expected {
                    #expect(decidingTable(bound, bindings) == table, "\(bound) should use \(table)")
                }
                // No tie: two rules of one length covering a bound VIP never disagree.
                for bound in expected.keys {
                    let covering = bindings.rules(inBlockOf: bound).filter { $0.source.contains(bound) }
                    let longest = covering.map(\.source.prefixLength).max()
                    #expect(Set(covering.filter { $0.source.prefixLength == longest }.map(\.table)).count <= 1)
                }
                // No useless rule: each covers a VIP bound to its table.
                for rule in Set((0..<128).flatMap { bindings.rules(inBlockOf: vip(UInt32($0))) }) {
                    #expect(expected.contains { $0.value == rule.table && rule.source.contains($0.key) }, "\(rule) is useless")
                }
            }
        }
    }

    @Test("prefix 32: one /32 rule and one local route per VIP")
    func singleAddressBlocks() {
        var bindings = BlockBindings(prefixLength: 32)
        _ = bindings.bind(vip(1), to: 7)
        _ = bindings.bind(vip(2), to: 7)
        bindings.setLocal(vip(1), true)
        #expect(texts(bindings.rules(inBlockOf: vip(1))) == ["from 198.19.0.1/32 lookup 7"])
        let move = bindings.bind(vip(1), to: 9)
        #expect(texts(move.added) == ["from 198.19.0.1/32 lookup 9"])
        #expect(texts(move.removed) == ["from 198.19.0.1/32 lookup 7"])
        #expect(bindings.localRoutes(inBlockOf: vip(1)).map(\.description) == ["198.19.0.1/32"])
        #expect(bindings.localRoutes(inBlockOf: vip(2)).isEmpty)
    }

    @Test("local routes cover exactly the local VIPs of the block")
    func localRoutes() {
        var bindings = BlockBindings(prefixLength: 24)
        for offset in 1..<255 { bindings.setLocal(vip(UInt32(offset)), true) }
        #expect(bindings.localRoutes(inBlockOf: vip(9)).count == 14)  // 1/32 2/31 ... 128/26 192/27 ... 254/32
        for offset in 0..<256 { bindings.setLocal(vip(UInt32(offset)), true) }
        #expect(bindings.localRoutes(inBlockOf: vip(9)).map(\.description) == ["198.19.0.0/24"])
        bindings.setLocal(vip(0), false)
        #expect(!bindings.isLocal(vip(0)))
        #expect(bindings.localRoutes(inBlockOf: vip(9)).count == 8)
    }
}
