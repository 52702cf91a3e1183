import ProxyARPCore

// Reconcile at start: what an earlier proxyarpd left in the kernel (read back by its
// marks: rules at its priorities with its protocol or into its tables, routes of its
// protocol, `lo` addresses with its IFA_PROTO) against the configuration now. A pure
// decision: found state + configuration -> what to keep, what to remove, and each kept
// VIP's previous table (its agent's, the selection's hint).
//
// Kept: one guard per `/20` section holding a configured VIP (at a valid section base not
// used by another section), that section's anchor and exit, the skip and end rules when a
// section is kept, and per VIP source the first rule (the one the kernel uses) that sits at
// its section's priority for its prefix length, points into the table of a managed adapter
// that exists now, and covers a configured VIP (with per-VIP binding: is one). Local
// addresses and local routes are kept when they make only configured VIPs local, in the
// form the current block size uses. Removed: everything else found. There are no invalid
// inputs: anything unrecognised in proxyarpd's range is removed.

/// The decision of what an earlier instance's kernel state to keep at start.
public enum StartupReconcile {
    /// A policy rule found in proxyarpd's priority range.
    public struct FoundRule: Sendable, Hashable, CustomStringConvertible {
        /// What the rule does.
        public enum Action: Sendable, Hashable {
            /// `lookup table`.
            case lookup(UInt32)
            /// `goto priority`.
            case goto(UInt32)
            /// `nop`.
            case nop
            /// Anything else (blackhole, unreachable, ...).
            case other
        }

        /// The rule's priority.
        public var priority: UInt32
        /// `from SOURCE`; nil for every source.
        public var source: IPv4Subnet?
        /// The action.
        public var action: Action

        /// Creates a found rule.
        public init(priority: UInt32, source: IPv4Subnet?, action: Action) {
            self.priority = priority
            self.source = source
            self.action = action
        }

        /// `pref 1000 from 198.18.0.1/32 lookup 20004`.
        public var description: String {
            let from = source.map { " from \($0)" } ?? ""
            switch action {
            case .lookup(let table): return "pref \(priority)\(from) lookup \(table)"
            case .goto(let target): return "pref \(priority)\(from) goto \(target)"
            case .nop: return "pref \(priority)\(from) nop"
            case .other: return "pref \(priority)\(from) other"
            }
        }
    }

    /// Where proxyarpd's rules sit (see the netlink host's rule sections).
    public struct Layout: Sendable, Equatable {
        /// The first VIP rule priority (the `/32` rules of section 0).
        public var rulePriority: UInt32
        /// Priorities per section.
        public var sectionSpan: UInt32
        /// The end `nop` every skip jumps to.
        public var endPriority: UInt32
        /// The guards' source prefix length.
        public var guardPrefixLength: Int

        /// Creates a layout.
        public init(rulePriority: UInt32, sectionSpan: UInt32 = 36, endPriority: UInt32 = 32_700, guardPrefixLength: Int = 20) {
            self.rulePriority = rulePriority
            self.sectionSpan = sectionSpan
            self.endPriority = endPriority
            self.guardPrefixLength = guardPrefixLength
        }

        /// The priority of the section guards.
        public var guardPriority: UInt32 { rulePriority - 10 }
        /// The priority of the rule that skips every section for other sources.
        public var skipPriority: UInt32 { rulePriority - 1 }

        /// Whether `base` is the base priority of some section.
        func isSectionBase(_ base: UInt32) -> Bool {
            base >= rulePriority && (base - rulePriority) % sectionSpan == 0 && base + sectionSpan <= endPriority
        }
    }

    /// What the kernel holds of proxyarpd's.
    public struct Found: Sendable, Equatable {
        /// Rules in proxyarpd's priority range that carry its mark, in the kernel's order.
        public var rules: [FoundRule]
        /// `/32` addresses on `lo` with proxyarpd's IFA_PROTO.
        public var localAddresses: [IPv4Address]
        /// `local` routes on `lo` with proxyarpd's protocol.
        public var localRoutes: [IPv4Subnet]
        /// Tables in proxyarpd's range holding routes of its protocol.
        public var tables: Set<UInt32>

        /// Creates a found state.
        public init(rules: [FoundRule] = [], localAddresses: [IPv4Address] = [], localRoutes: [IPv4Subnet] = [], tables: Set<UInt32> = []) {
            self.rules = rules
            self.localAddresses = localAddresses
            self.localRoutes = localRoutes
            self.tables = tables
        }
    }

    /// The decision.
    public struct Plan: Sendable, Equatable {
        /// Rules left in place.
        public var keptRules: [FoundRule] = []
        /// Rules to delete.
        public var removedRules: [FoundRule] = []
        /// The kept sections: each `/20` and its base priority.
        public var sections: [IPv4Subnet: UInt32] = [:]
        /// Each configured VIP's table from the rule that decides it now: its previous agent's.
        public var previousTables: [IPv4Address: UInt32] = [:]
        /// Local addresses left in place.
        public var keptAddresses: [IPv4Address] = []
        /// Local addresses to delete.
        public var removedAddresses: [IPv4Address] = []
        /// Local routes left in place.
        public var keptLocalRoutes: [IPv4Subnet] = []
        /// Local routes to delete.
        public var removedLocalRoutes: [IPv4Subnet] = []
        /// Tables whose routes are deleted: no managed adapter that exists now owns them.
        public var removedTables: Set<UInt32> = []

        /// Creates an empty plan.
        public init() {}
    }

    /// Decides, for `found`, what stays and what goes, given the VIPs configured now, the
    /// tables of the managed adapters that exist now, the rule layout and the block size.
    public static func plan(
        found: Found, configured: AddressSet, agentTables: Set<UInt32>, layout: Layout, blockPrefixLength: Int
    ) -> Plan {
        var plan = Plan()
        // Sections: a guard `from S/20 goto base` at the guard priority, first one per S and per base.
        var usedBases: Set<UInt32> = []
        for rule in found.rules where rule.priority == layout.guardPriority {
            guard let source = rule.source, source.prefixLength == layout.guardPrefixLength, case .goto(let base) = rule.action,
                layout.isSectionBase(base), plan.sections[source] == nil, !usedBases.contains(base),
                holdsConfigured(source, configured)
            else { continue }
            plan.sections[source] = base
            usedBases.insert(base)
        }
        var keptStructure: Set<FoundRule> = []
        var keptSources: Set<IPv4Subnet> = []
        for rule in found.rules {
            if keep(rule, layout: layout, plan: plan, usedBases: usedBases, configured: configured, agentTables: agentTables,
                    blockPrefixLength: blockPrefixLength, keptStructure: &keptStructure, keptSources: &keptSources)
            {
                plan.keptRules.append(rule)
            } else {
                plan.removedRules.append(rule)
            }
        }
        plan.previousTables = previousTables(of: plan.keptRules, configured: configured)
        for address in found.localAddresses {
            if blockPrefixLength == 32, configured.contains(address) {
                plan.keptAddresses.append(address)
            } else {
                plan.removedAddresses.append(address)
            }
        }
        for route in found.localRoutes {
            if blockPrefixLength < 32, route.prefixLength >= blockPrefixLength, covers(route, onlyConfigured: configured) {
                plan.keptLocalRoutes.append(route)
            } else {
                plan.removedLocalRoutes.append(route)
            }
        }
        plan.removedTables = found.tables.subtracting(agentTables)
        return plan
    }

    private static func keep(
        _ rule: FoundRule, layout: Layout, plan: Plan, usedBases: Set<UInt32>, configured: AddressSet,
        agentTables: Set<UInt32>, blockPrefixLength: Int, keptStructure: inout Set<FoundRule>,
        keptSources: inout Set<IPv4Subnet>
    ) -> Bool {
        // The guards, skip, end, anchors and exits: the first of each exact rule.
        switch (rule.priority, rule.source, rule.action) {
        case (layout.guardPriority, let source?, .goto(let base)):
            return plan.sections[source] == base && keptStructure.insert(rule).inserted
        case (layout.skipPriority, nil, .goto(layout.endPriority)), (layout.endPriority, nil, .nop):
            return !plan.sections.isEmpty && keptStructure.insert(rule).inserted
        case (let priority, nil, .nop) where usedBases.contains(priority):
            return keptStructure.insert(rule).inserted
        case (let priority, nil, .goto(layout.endPriority)) where priority >= 33 && usedBases.contains(priority - 33):
            return keptStructure.insert(rule).inserted
        case (let priority, let source?, .lookup(let table)):
            let section = IPv4Subnet.block(containing: source.network, prefixLength: layout.guardPrefixLength)
            guard agentTables.contains(table), source.prefixLength >= blockPrefixLength,
                source.prefixLength >= layout.guardPrefixLength, let base = plan.sections[section],
                priority == base + UInt32(32 - source.prefixLength), holdsConfigured(source, configured)
            else { return false }
            return keptSources.insert(source).inserted
        default:
            return false
        }
    }

    /// Whether `subnet` holds a configured VIP (looked up address by address up to a
    /// `/20`: 4,096 look-ups at most).
    private static func holdsConfigured(_ subnet: IPv4Subnet, _ configured: AddressSet) -> Bool {
        subnet.addresses.contains { configured.contains($0) }
    }

    private static func covers(_ subnet: IPv4Subnet, onlyConfigured configured: AddressSet) -> Bool {
        subnet.prefixLength >= 20 && subnet.addresses.allSatisfy { configured.contains($0) }
    }

    /// Each configured VIP's table: from the most specific kept rule covering it.
    private static func previousTables(of rules: [FoundRule], configured: AddressSet) -> [IPv4Address: UInt32] {
        var result: [IPv4Address: UInt32] = [:]
        let lookups = rules.compactMap { rule -> (IPv4Subnet, UInt32)? in
            guard let source = rule.source, case .lookup(let table) = rule.action else { return nil }
            return (source, table)
        }
        for (source, table) in lookups.sorted(by: { $0.0.prefixLength > $1.0.prefixLength }) {
            for vip in source.addresses where configured.contains(vip) && result[vip] == nil {
                result[vip] = table
            }
        }
        return result
    }
}
