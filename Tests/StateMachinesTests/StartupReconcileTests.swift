import ProxyARPCore
import ProxyARPStateMachines
import Testing

/// The pure reconcile decision: found kernel state + configuration -> keep/remove lists.
/// Layout of a daemon with rule priority 1000: guards at 990, skip at 999, section bases
/// 1000, 1036, ..., `/32` rules at the base, the exit at base + 33, the end at 32700.
@Suite("StartupReconcile")
struct StartupReconcileTests {
    typealias Rule = StartupReconcile.FoundRule
    let layout = StartupReconcile.Layout(rulePriority: 1000)
    let section0 = IPv4Subnet("198.18.0.0/20")!
    let section1 = IPv4Subnet("198.18.16.0/20")!
    let tableH0: UInt32 = 20004
    let tableH1: UInt32 = 20005
    let tableGone: UInt32 = 20009

    func vipRule(_ vip: String, _ table: UInt32, priority: UInt32 = 1000) -> Rule {
        Rule(priority: priority, source: IPv4Subnet("\(vip)/32")!, action: .lookup(table))
    }

    func structure(_ section: IPv4Subnet, base: UInt32) -> [Rule] {
        [Rule(priority: 990, source: section, action: .goto(base)), Rule(priority: base, source: nil, action: .nop),
         Rule(priority: base + 33, source: nil, action: .goto(32_700))]
    }

    let skipAndEnd = [Rule(priority: 999, source: nil, action: .goto(32_700)), Rule(priority: 32_700, source: nil, action: .nop)]

    @Test("A clean earlier run with the same configuration is kept whole, each VIP with its table")
    func sameConfigurationKeepsEverything() {
        let rules = skipAndEnd + structure(section0, base: 1000)
            + [vipRule("198.18.0.101", tableH0), vipRule("198.18.0.102", tableH1)]
        let plan = StartupReconcile.plan(
            found: .init(rules: rules, localAddresses: [IPv4Address("198.18.0.101")!, IPv4Address("198.18.0.102")!]),
            configured: AddressSet([IPv4Address("198.18.0.101")!, IPv4Address("198.18.0.102")!]),
            agentTables: [tableH0, tableH1], layout: layout, blockPrefixLength: 32)
        #expect(plan.removedRules.isEmpty)
        #expect(plan.keptRules == rules)
        #expect(plan.sections == [section0: 1000])
        #expect(plan.previousTables == [IPv4Address("198.18.0.101")!: tableH0, IPv4Address("198.18.0.102")!: tableH1])
        #expect(plan.removedAddresses.isEmpty && plan.keptAddresses.count == 2)
    }

    @Test("Removed: rules and addresses of VIPs no longer configured, rules into tables of adapters gone, a second rule for one VIP")
    func leftoversRemoved() {
        let stale = vipRule("198.18.0.103", tableH0)          // VIP removed from the config
        let gone = vipRule("198.18.0.104", tableGone)         // its adapter is gone
        let duplicate = vipRule("198.18.0.101", tableH1)      // behind the first rule for .101
        let rules = skipAndEnd + structure(section0, base: 1000)
            + [vipRule("198.18.0.101", tableH0), duplicate, stale, gone]
        let configured = AddressSet(["198.18.0.101", "198.18.0.104"].map { IPv4Address($0)! })
        let plan = StartupReconcile.plan(
            found: .init(rules: rules, localAddresses: ["198.18.0.101", "198.18.0.103"].map { IPv4Address($0)! },
                         tables: [tableH0, tableGone]),
            configured: configured, agentTables: [tableH0, tableH1], layout: layout, blockPrefixLength: 32)
        #expect(plan.removedRules == [duplicate, stale, gone])
        #expect(plan.previousTables == [IPv4Address("198.18.0.101")!: tableH0], "the rule the kernel uses decides")
        #expect(plan.removedAddresses == [IPv4Address("198.18.0.103")!])
        #expect(plan.keptAddresses == [IPv4Address("198.18.0.101")!])
        #expect(plan.removedTables == [tableGone])
    }

    @Test("A section without configured VIPs goes whole; misplaced rules go; nothing configured removes everything")
    func sectionsAndMisplacedRules() {
        let misplaced = vipRule("198.18.0.101", tableH0, priority: 1003)  // a /32 rule where a /29 belongs
        let other = Rule(priority: 1500, source: nil, action: .other)
        let rules = skipAndEnd + structure(section0, base: 1000) + structure(section1, base: 1036)
            + [vipRule("198.18.16.5", tableH0, priority: 1036), misplaced, vipRule("198.18.0.102", tableH0), other]
        let configured = AddressSet([IPv4Address("198.18.0.101")!, IPv4Address("198.18.0.102")!])
        let plan = StartupReconcile.plan(
            found: .init(rules: rules), configured: configured, agentTables: [tableH0], layout: layout, blockPrefixLength: 32)
        #expect(plan.sections == [section0: 1000])
        #expect(Set(plan.removedRules) == Set(structure(section1, base: 1036) + [vipRule("198.18.16.5", tableH0, priority: 1036), misplaced, other]))
        #expect(plan.previousTables == [IPv4Address("198.18.0.102")!: tableH0])

        let none = StartupReconcile.plan(
            found: .init(rules: rules), configured: AddressSet(), agentTables: [tableH0], layout: layout, blockPrefixLength: 32)
        #expect(none.keptRules.isEmpty && none.removedRules.count == rules.count)
    }

    @Test("Block mode: block rules give every configured VIP they cover its table; local routes over removed VIPs go; /32 addresses go")
    func blockMode() {
        let block = Rule(priority: 1006, source: IPv4Subnet("198.18.0.128/26")!, action: .lookup(tableH0))
        let moved = vipRule("198.18.0.130", tableH1)
        let rules = skipAndEnd + structure(section0, base: 1000) + [moved, block]
        let configured = AddressSet((128...191).map { IPv4Address(198, 18, 0, UInt8($0)) }.filter { $0 != IPv4Address("198.18.0.191")! })
        let plan = StartupReconcile.plan(
            found: .init(rules: rules, localAddresses: [IPv4Address("198.18.0.140")!],
                         localRoutes: [IPv4Subnet("198.18.0.128/27")!, IPv4Subnet("198.18.0.160/27")!]),
            configured: configured, agentTables: [tableH0, tableH1], layout: layout, blockPrefixLength: 26)
        #expect(plan.removedRules.isEmpty)
        #expect(plan.previousTables.count == 63)
        #expect(plan.previousTables[IPv4Address("198.18.0.130")!] == tableH1, "the most specific rule decides")
        #expect(plan.previousTables[IPv4Address("198.18.0.131")!] == tableH0)
        #expect(plan.keptLocalRoutes == [IPv4Subnet("198.18.0.128/27")!])
        #expect(plan.removedLocalRoutes == [IPv4Subnet("198.18.0.160/27")!], ".191 is no longer configured")
        #expect(plan.removedAddresses == [IPv4Address("198.18.0.140")!], "block mode uses routes, not /32 addresses")
    }
}
