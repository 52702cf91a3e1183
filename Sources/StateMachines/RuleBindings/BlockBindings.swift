import ProxyARPCore

/// What the kernel should hold for VIPs grouped in aligned blocks: per block, the policy
/// rules that send each bound VIP's traffic to its agent's table, and the local routes
/// that cover exactly the block's local VIPs. A pure value; the IO module's netlink host applies the
/// changes it returns.
///
/// Rules are matched longest prefix first (the netlink host gives a `/n` rule priority
/// `base + 32 - n`), so a block can hold one broad rule and a few narrower exceptions.
/// The invariant, for every bound VIP: the longest installed rule covering it points at
/// its table. A rule may also cover VIPs that are not bound (withdrawn or pending) and
/// addresses of the block that are not VIPs; it is deleted once it covers no VIP bound to
/// its table. So binding grows rules as exact covers (a full `/26` on one agent becomes one
/// rule), a move adds the narrowest exception first and splits only the rules that would
/// outrank it, and unbinding a whole block (shutdown) deletes one rule per run instead of
/// re-covering the remainder after every VIP.
public struct BlockBindings: Sendable, Equatable {
    /// One policy rule: traffic from `source` looks up `table`.
    public struct Rule: Sendable, Hashable, Comparable, CustomStringConvertible {
        /// The rule's source prefix.
        public var source: IPv4Subnet
        /// The routing table it points at.
        public var table: UInt32

        /// Creates a rule.
        public init(source: IPv4Subnet, table: UInt32) {
            self.source = source
            self.table = table
        }

        public static func < (lhs: Rule, rhs: Rule) -> Bool {
            (lhs.source.network, lhs.source.prefixLength, lhs.table) < (rhs.source.network, rhs.source.prefixLength, rhs.table)
        }

        /// `from 198.19.0.0/26 lookup 20002`.
        public var description: String { "from \(source) lookup \(table)" }
    }

    /// The rules to add (first: make) and to delete (then: break) after a change.
    public struct RuleChanges: Sendable, Equatable {
        /// Rules to add, most specific first.
        public var added: [Rule] = []
        /// Rules to delete.
        public var removed: [Rule] = []

        /// Creates a change set.
        public init(added: [Rule] = [], removed: [Rule] = []) {
            self.added = added
            self.removed = removed
        }
    }

    /// The rules and bound VIPs of one block.
    private struct Block: Sendable, Equatable {
        var members: [IPv4Address: UInt32] = [:]
        var rules: Set<Rule> = []
        var local: Set<IPv4Address> = []
    }

    /// The prefix length of a block, 0...32.
    public let prefixLength: Int
    private var blocks: [IPv4Address: Block] = [:]

    /// Creates empty bindings with blocks of `prefixLength`.
    public init(prefixLength: Int) {
        precondition((0...32).contains(prefixLength), "block prefix length \(prefixLength) out of 0...32")
        self.prefixLength = prefixLength
    }

    /// The block holding `vip`.
    public func block(of vip: IPv4Address) -> IPv4Subnet {
        IPv4Subnet.block(containing: vip, prefixLength: prefixLength)
    }

    /// The table `vip` is bound to, if any.
    public func table(of vip: IPv4Address) -> UInt32? { blocks[block(of: vip).network]?.members[vip] }

    /// Whether `vip` is local.
    public func isLocal(_ vip: IPv4Address) -> Bool { blocks[block(of: vip).network]?.local.contains(vip) ?? false }

    /// The rules installed for `vip`'s block.
    public func rules(inBlockOf vip: IPv4Address) -> Set<Rule> { blocks[block(of: vip).network]?.rules ?? [] }

    /// The local routes `vip`'s block needs: the exact cover of its local VIPs.
    public func localRoutes(inBlockOf vip: IPv4Address) -> Set<IPv4Subnet> {
        Set(IPv4Subnet.exactCover(of: blocks[block(of: vip).network]?.local ?? []))
    }

    /// Binds `vip` to `table` (nil: unbinds it) and returns the rule changes that keep the
    /// invariant.
    public mutating func bind(_ vip: IPv4Address, to table: UInt32?) -> RuleChanges {
        let key = block(of: vip).network
        var block = blocks[key] ?? Block()
        let before = block.rules
        block.members[vip] = table
        Self.dropUseless(&block)
        if let table { Self.makeWinner(vip, table, &block) }
        store(block, at: key)
        return RuleChanges(
            added: block.rules.subtracting(before).sorted { ($0.source.prefixLength, $1) > ($1.source.prefixLength, $0) },
            removed: before.subtracting(block.rules).sorted()
        )
    }

    /// Records whether `vip` is local.
    public mutating func setLocal(_ vip: IPv4Address, _ isLocal: Bool) {
        let key = block(of: vip).network
        var block = blocks[key] ?? Block()
        if isLocal { block.local.insert(vip) } else { block.local.remove(vip) }
        store(block, at: key)
    }

    /// Forgets every binding and rule (after the kernel's were removed); local VIPs stay.
    public mutating func removeAllRules() {
        for key in Array(blocks.keys) {
            blocks[key]?.members = [:]
            blocks[key]?.rules = []
            if let block = blocks[key] { store(block, at: key) }
        }
    }

    private mutating func store(_ block: Block, at key: IPv4Address) {
        blocks[key] = block.members.isEmpty && block.rules.isEmpty && block.local.isEmpty ? nil : block
    }

    // MARK: the invariant

    /// The rule that decides `vip`: the longest covering one; nil when none, or when two
    /// of that length disagree.
    private static func winner(_ vip: IPv4Address, in rules: Set<Rule>) -> Rule? {
        var best: Rule?
        var tied = false
        for rule in rules where rule.source.contains(vip) {
            guard let current = best, rule.source.prefixLength <= current.source.prefixLength else {
                best = rule
                tied = false
                continue
            }
            if rule.source.prefixLength == current.source.prefixLength, rule.table != current.table { tied = true }
        }
        return tied ? nil : best
    }

    /// The exact cover of the VIPs of `block` bound to `table` inside `within`.
    private static func cover(_ table: UInt32, within: IPv4Subnet?, in block: Block) -> [IPv4Subnet] {
        IPv4Subnet.exactCover(of: block.members.lazy.filter { $0.value == table && (within?.contains($0.key) ?? true) }.map(\.key))
    }

    /// Deletes rules that cover no VIP bound to their table. Such a rule decides no bound
    /// VIP (the invariant), so no winner changes.
    private static func dropUseless(_ block: inout Block) {
        block.rules = block.rules.filter { rule in
            block.members.contains { $0.value == rule.table && rule.source.contains($0.key) }
        }
    }

    /// Makes a rule to `table` decide `vip`: the exact-cover subnet of `table`'s VIPs that
    /// holds it, after splitting any other table's rule that would outrank it; then drops
    /// rules made redundant, most specific first.
    private static func makeWinner(_ vip: IPv4Address, _ table: UInt32, _ block: inout Block) {
        guard winner(vip, in: block.rules)?.table != table else { return }
        guard let subnet = cover(table, within: nil, in: block).first(where: { $0.contains(vip) }) else { return }
        for rule in block.rules
        where rule.table != table && rule.source.contains(vip) && rule.source.prefixLength >= subnet.prefixLength {
            block.rules.remove(rule)
            for piece in cover(rule.table, within: rule.source, in: block) {
                block.rules.insert(Rule(source: piece, table: rule.table))
            }
        }
        block.rules.insert(Rule(source: subnet, table: table))
        dropRedundant(&block)
    }

    /// Deletes each rule whose removal leaves every bound VIP it covers decided by a rule
    /// to the same table; most specific rules are tried first, so broad rules stay.
    private static func dropRedundant(_ block: inout Block) {
        for rule in block.rules.sorted(by: { ($0.source.prefixLength, $1) > ($1.source.prefixLength, $0) }) {
            var without = block.rules
            without.remove(rule)
            let unchanged = block.members.allSatisfy { vip, table in
                !rule.source.contains(vip) || winner(vip, in: without)?.table == table
                    || winner(vip, in: block.rules)?.table != table
            }
            if unchanged { block.rules = without }
        }
    }
}
