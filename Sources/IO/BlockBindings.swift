import ProxyARPCore

/// What the kernel should hold for VIPs grouped in aligned blocks: per block, the policy
/// rules (`from SUBNET lookup TABLE`) and the local routes that cover exactly the VIPs of
/// that block, with the fewest subnets. A pure value; ``NetlinkHost`` diffs it against
/// what it installed.
///
/// With blocks of one address (prefix 32) this is one `/32` rule and one local address
/// per VIP; with `/26` blocks of fully bound VIPs on one agent, one rule per block.
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

    /// The prefix length of a block, 0...32.
    public let prefixLength: Int
    /// The table each bound VIP's outbound path uses.
    public private(set) var tables: [IPv4Address: UInt32] = [:]
    /// The VIPs that are local addresses of the host.
    public private(set) var local: Set<IPv4Address> = []
    private var boundByBlock: [IPv4Address: Set<IPv4Address>] = [:]
    private var localByBlock: [IPv4Address: Set<IPv4Address>] = [:]

    /// Creates empty bindings with blocks of `prefixLength`.
    public init(prefixLength: Int) {
        precondition((0...32).contains(prefixLength), "block prefix length \(prefixLength) out of 0...32")
        self.prefixLength = prefixLength
    }

    /// The block holding `vip`.
    public func block(of vip: IPv4Address) -> IPv4Subnet {
        IPv4Subnet.block(containing: vip, prefixLength: prefixLength)
    }

    /// Records that `vip`'s outbound path uses `table` (nil: unbound).
    public mutating func bind(_ vip: IPv4Address, to table: UInt32?) {
        let key = block(of: vip).network
        tables[vip] = table
        if table == nil {
            boundByBlock[key]?.remove(vip)
            if boundByBlock[key]?.isEmpty == true { boundByBlock[key] = nil }
        } else {
            boundByBlock[key, default: []].insert(vip)
        }
    }

    /// Records whether `vip` is a local address.
    public mutating func setLocal(_ vip: IPv4Address, _ isLocal: Bool) {
        let key = block(of: vip).network
        if isLocal {
            local.insert(vip)
            localByBlock[key, default: []].insert(vip)
        } else {
            local.remove(vip)
            localByBlock[key]?.remove(vip)
            if localByBlock[key]?.isEmpty == true { localByBlock[key] = nil }
        }
    }

    /// The rules `vip`'s block needs: per table, the exact cover of the block's VIPs bound to it.
    public func rules(inBlockOf vip: IPv4Address) -> Set<Rule> {
        var byTable: [UInt32: [IPv4Address]] = [:]
        for member in boundByBlock[block(of: vip).network] ?? [] {
            if let table = tables[member] { byTable[table, default: []].append(member) }
        }
        var rules = Set<Rule>()
        for (table, members) in byTable {
            for source in IPv4Subnet.exactCover(of: members) { rules.insert(Rule(source: source, table: table)) }
        }
        return rules
    }

    /// The local routes `vip`'s block needs: the exact cover of its local VIPs.
    public func localRoutes(inBlockOf vip: IPv4Address) -> Set<IPv4Subnet> {
        Set(IPv4Subnet.exactCover(of: localByBlock[block(of: vip).network] ?? []))
    }

    /// Forgets everything (after the kernel state was removed).
    public mutating func removeAll() {
        tables = [:]
        local = []
        boundByBlock = [:]
        localByBlock = [:]
    }
}
