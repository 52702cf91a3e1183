import CLinuxNet
import Glibc
import Logging
import ProxyARPCore
import ProxyARPStateMachines

/// The policy rules that bind VIPs' outbound paths, kept in sections.
///
/// Every packet the host routes walks the policy rules until one matches, and the
/// kernel routes each ARP request it receives, checking the reverse path from the
/// target (a VIP) back to the sender: so with one flat list, each request for a VIP
/// walked up to all the VIP rules on every adapter (measured in the bench: 1,600 block
/// rules at 100,000 VIPs cut the generator from 99k to 24k requests/s, fib_rules_lookup
/// under fib_validate_source on top of the profile). The rules are therefore kept in
/// one section per `/20` holding bound VIPs, and guards jump straight to the section:
///
///     rulePriority - 10       from S/20 goto base(S)       (one guard per section)
///     rulePriority - 1        goto end                      (no VIP source: skip all)
///     base(S)                 nop                            (the section's anchor)
///     base(S) + 32 - n        the section's /n VIP rules     (most specific first)
///     base(S) + 33            goto end                       (leave after the section)
///     end (``endPriority``)   nop
///
/// where `base(S) = rulePriority + 36 × (the section's number)`. A lookup walks the
/// guards and one section. A `goto` needs a rule at exactly its target priority, hence
/// the `nop`s. Priorities from `rulePriority - 10` to ``endPriority`` are proxyarpd's:
/// rules of others there are skipped. Which VIP rules a block needs is decided by the
/// pure ``BlockBindings``; this value installs them.
struct RuleSections {
    /// The guard's granularity: the VIP rules of each `/20` (4,096 addresses) holding bound
    /// VIPs form a section of their own. 100,000 VIPs in two ranges make 25 sections.
    static let guardPrefixLength = 20
    /// Priorities per section: the anchor, the 33 prefix lengths, the exit.
    static let sectionSpan: UInt32 = 36
    /// The priority every skip and section exit jumps to: the end of proxyarpd's rules.
    static let endPriority: UInt32 = 32_700

    /// The first priority of the VIP rules: the `/32` rules of the first section.
    let rulePriority: UInt32
    /// Whether the end `nop` and the skip rule are installed.
    private var guardInstalled = false
    /// Each `/20` holding bound VIPs and the base priority of its rule section.
    private var sections: [IPv4Subnet: UInt32] = [:]

    init(rulePriority: UInt32) {
        self.rulePriority = rulePriority
    }

    /// How many `/20` sections fit between ``rulePriority`` and ``endPriority``.
    var maximumSections: Int { Int((Self.endPriority - rulePriority) / Self.sectionSpan) }

    /// Installs the guard rules and `vip`'s section, when missing.
    mutating func installGuard(for vip: IPv4Address, socket: inout NetlinkSocket, logger: Logger) throws(NetlinkError) {
        if !guardInstalled {
            try Self.addRule(priority: Self.endPriority, action: UInt8(FR_ACT_NOP), socket: &socket)
            try Self.addRule(priority: rulePriority - 1, action: UInt8(FR_ACT_GOTO), goto: Self.endPriority, socket: &socket)
            guardInstalled = true
        }
        let prefix = IPv4Subnet.block(containing: vip, prefixLength: Self.guardPrefixLength)
        guard sections[prefix] == nil else { return }
        guard sections.count < maximumSections else {
            throw NetlinkError(
                operation: "bind \(vip): more than \(maximumSections) /\(Self.guardPrefixLength)s hold VIPs", code: ENOSPC)
        }
        // The first free base: adopted sections (see `adopt`) need not be contiguous.
        let used = Set(sections.values)
        var base = rulePriority
        while used.contains(base) { base += Self.sectionSpan }
        try Self.addRule(priority: base, action: UInt8(FR_ACT_NOP), socket: &socket)
        try Self.addRule(priority: base + 33, action: UInt8(FR_ACT_GOTO), goto: Self.endPriority, socket: &socket)
        try Self.addRule(priority: rulePriority - 10, source: prefix, action: UInt8(FR_ACT_GOTO), goto: base, socket: &socket)
        sections[prefix] = base
        logger.debug("rule section for \(prefix) at \(base)")
    }

    /// Adds the rules of `changes`, then deletes.
    func apply(_ changes: BlockBindings.RuleChanges, socket: inout NetlinkSocket) throws(NetlinkError) {
        for rule in changes.added {
            try socket.execute(
                Self.ruleRequest(type: UInt16(RTM_NEWRULE), flags: CLN_NLM_F_CREATE | CLN_NLM_F_EXCL, rule: rule,
                                 priority: priority(of: rule)),
                tolerating: [EEXIST])
        }
        for rule in changes.removed {
            try socket.execute(
                Self.ruleRequest(type: UInt16(RTM_DELRULE), flags: 0, rule: rule, priority: priority(of: rule)),
                tolerating: [ENOENT])
        }
    }

    /// Deletes every rule at ``rulePriority`` - 10 ... ``endPriority`` that points into
    /// `tables` or carries our protocol, and forgets the sections. Returns how many.
    mutating func removeAll(pointingInto tables: Range<UInt32>, socket: inout NetlinkSocket) throws(NetlinkError) -> Int {
        let rules = try remove(found(pointingInto: tables, socket: &socket).map(\.message), socket: &socket)
        guardInstalled = false
        sections = [:]
        return rules
    }

    /// Every rule at ``rulePriority`` - 10 ... ``endPriority`` that points into `tables` or
    /// carries our protocol, in the kernel's order, with the message that deletes it.
    func found(
        pointingInto tables: Range<UInt32>, socket: inout NetlinkSocket
    ) throws(NetlinkError) -> [(rule: StartupReconcile.FoundRule, message: NetlinkMessage)] {
        var request = NetlinkRequest(type: UInt16(RTM_GETRULE), flags: 0, label: "RTM_GETRULE dump")
        var dumpHeader = fib_rule_hdr()
        dumpHeader.family = UInt8(AF_INET)
        request.append(header: dumpHeader)
        var found: [(rule: StartupReconcile.FoundRule, message: NetlinkMessage)] = []
        for message in try socket.dump(request) where message.type == UInt16(RTM_NEWRULE) {
            guard let header = message.familyHeader(fib_rule_hdr.self) else { continue }
            let attributes = message.attributes(afterHeaderOf: MemoryLayout<fib_rule_hdr>.size)
            let table = attributes.uint32(Int(FRA_TABLE)) ?? UInt32(header.table)
            guard let priority = attributes.uint32(Int(FRA_PRIORITY)),
                (rulePriority - 10...Self.endPriority).contains(priority),
                tables.contains(table) || attributes.uint8(Int(CLN_FRA_PROTOCOL)) == NetlinkHost.routeProtocol
            else { continue }
            let source = header.src_len == 0
                ? nil : IPv4Subnet(address: attributes.ipv4(Int(FRA_SRC)) ?? .any, prefixLength: Int(header.src_len))
            let action: StartupReconcile.FoundRule.Action
            switch Int(header.action) {
            case Int(FR_ACT_TO_TBL): action = .lookup(table)
            case Int(FR_ACT_GOTO): action = attributes.uint32(Int(FRA_GOTO)).map { .goto($0) } ?? .other
            case Int(FR_ACT_NOP): action = .nop
            default: action = .other
            }
            found.append((StartupReconcile.FoundRule(priority: priority, source: source, action: action), message))
        }
        return found
    }

    /// Deletes the dumped rules `messages`. Returns how many were there.
    func remove(_ messages: [NetlinkMessage], socket: inout NetlinkSocket) throws(NetlinkError) -> Int {
        var rules = 0
        for message in messages {
            let delete = NetlinkRequest(type: UInt16(RTM_DELRULE), flags: 0, label: "RTM_DELRULE found rule", echoing: message)
            if try socket.execute(delete, tolerating: [ENOENT]) == 0 { rules += 1 }
        }
        return rules
    }

    /// Takes over the sections an earlier instance left (kept at start): later VIPs of
    /// those `/20`s join them, new sections take bases none of them uses.
    mutating func adopt(sections found: [IPv4Subnet: UInt32], guardInstalled: Bool) {
        sections = found
        self.guardInstalled = guardInstalled && !found.isEmpty
    }

    /// A VIP rule's priority: its section's base for `/32`, one more per shorter prefix, so
    /// the kernel tries the most specific rule first.
    private func priority(of rule: BlockBindings.Rule) -> UInt32 {
        let section = IPv4Subnet.block(containing: rule.source.network, prefixLength: Self.guardPrefixLength)
        return (sections[section] ?? rulePriority) + UInt32(32 - rule.source.prefixLength)
    }

    private static func addRule(
        priority: UInt32, source: IPv4Subnet? = nil, action: UInt8, goto target: UInt32? = nil, socket: inout NetlinkSocket
    ) throws(NetlinkError) {
        let what = action == UInt8(FR_ACT_NOP) ? "nop" : "goto \(target ?? 0)"
        var request = NetlinkRequest(
            type: UInt16(RTM_NEWRULE), flags: CLN_NLM_F_CREATE | CLN_NLM_F_EXCL,
            label: "RTM_NEWRULE pref \(priority) \(source.map { "from \($0) " } ?? "")\(what)")
        var header = fib_rule_hdr()
        header.family = UInt8(AF_INET)
        header.src_len = UInt8(source?.prefixLength ?? 0)
        header.action = action
        request.append(header: header)
        if let source { request.appendAttribute(Int(FRA_SRC), ipv4: source.network) }
        request.appendAttribute(Int(FRA_PRIORITY), uint32: priority)
        if let target { request.appendAttribute(Int(FRA_GOTO), uint32: target) }
        request.appendAttribute(Int(CLN_FRA_PROTOCOL), uint8: NetlinkHost.routeProtocol)
        try socket.execute(request, tolerating: [EEXIST])
    }

    private static func ruleRequest(type: UInt16, flags: UInt16, rule: BlockBindings.Rule, priority: UInt32) -> NetlinkRequest {
        let verb = type == UInt16(RTM_NEWRULE) ? "RTM_NEWRULE" : "RTM_DELRULE"
        var request = NetlinkRequest(type: type, flags: flags, label: "\(verb) \(rule) pref \(priority)")
        var header = fib_rule_hdr()
        header.family = UInt8(AF_INET)
        header.src_len = UInt8(rule.source.prefixLength)
        header.action = UInt8(FR_ACT_TO_TBL)
        request.append(header: header)
        request.appendAttribute(Int(FRA_SRC), ipv4: rule.source.network)
        request.appendAttribute(Int(FRA_PRIORITY), uint32: priority)
        request.appendAttribute(Int(FRA_TABLE), uint32: rule.table)
        if type == UInt16(RTM_NEWRULE) {
            request.appendAttribute(Int(CLN_FRA_PROTOCOL), uint8: NetlinkHost.routeProtocol)
        }
        return request
    }
}
