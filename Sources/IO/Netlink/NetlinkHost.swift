import CLinuxNet
import Glibc
import Logging
import ProxyARPCore
import ProxyARPStateMachines
import Synchronization

/// The host-side effects of activation over rtnetlink and `/proc/sys` (ARCHITECTURE.md §2).
///
/// - `prepare(adapter:)` writes `arp_ignore=1`, `arp_announce=2` and
///   `ignore_routes_with_linkdown=1` under `/proc/sys/net/ipv4/conf/<dev>/`.
/// - A VIP is made local: with blocks of one address (``blockPrefixLength`` 32, the
///   default) as a `/32` on `lo` (`RTM_NEWADDR`/`RTM_DELADDR`); with larger blocks as
///   `local` routes on `lo` in the local table that cover exactly the block's local VIPs
///   (the kernel inserts addresses in a list, routes in a trie: 100,000 `/32` addresses
///   took 2 min 50 s of kernel time here).
/// - Its outbound path is a policy rule `from SUBNET lookup T(agent)` in the rule section
///   of its `/20`, most specific first, where
///   `T(agent) = tableBase + ifindex(agent)` holds the
///   agent's connected routes and, when the main table's default route has its gateway
///   inside one of the agent's subnets, a default route through that gateway on the agent.
///   A block's rules are kept by ``BlockBindings``: one `/32` rule per VIP with blocks of
///   one address, one rule per run of VIPs on one agent otherwise. A guard (see
///   `installGuard`) sends a lookup from a VIP to its `/20`'s section only. The kernel
///   keeps rules in a list (100,000 rules took 9 min 44 s to add here, and every route
///   lookup walks them), so large VIP sets need larger blocks.
/// - Every bind reads the agent's addresses and the main default gateway (two filtered
///   dumps) and rewrites `T(agent)` only when they changed since the last bind, deleting
///   routes of ours there that no longer match.
///
/// Routes and rules carry the protocol number ``routeProtocol`` so ``cleanup()`` finds
/// exactly ours. Every call is a few synchronous netlink round trips under a mutex
/// (microseconds); they run on the caller's thread. With `namespacePath` the socket and
/// the sysctl files are opened inside that network namespace (see ``NetworkNamespace``).
public final class NetlinkHost: HostNetworking {
    /// The first priority of the VIP rules: the `/32` rules of the first `/20` section (see
    /// `installGuard`); all of proxyarpd's rules sit between this minus 10 and ``endPriority``.
    public let rulePriority: UInt32
    /// `T(agent) = tableBase + ifindex`.
    public let tableBase: UInt32
    /// VIPs are bound in aligned blocks of this prefix length (see ``BlockBindings``).
    public let blockPrefixLength: Int
    /// `rtm_protocol` / `FRA_PROTOCOL` of everything proxyarpd installs.
    public static let routeProtocol: UInt8 = 0x9a
    /// The tables ``cleanup()`` considers ours: `tableBase ..< tableBase + tableSpan`.
    public static let tableSpan: UInt32 = 1 << 20

    private let namespacePath: String?
    private let logger: Logger
    private let state: Mutex<State>

    private struct State: ~Copyable {
        var socket: NetlinkSocket
        /// What the kernel should hold, per block (local VIPs tracked in block mode only:
        /// a `/32` address needs no cover).
        var bindings: BlockBindings
        /// The local routes installed per block (blocks larger than one address only).
        var installedLocalRoutes: [IPv4Address: Set<IPv4Subnet>] = [:]
        /// What each agent's table was last written from, by ifindex.
        var agentRoutes: [Int32: AgentRoutes] = [:]
        /// The index of `lo`, once asked.
        var loopbackIndex: Int32?
        /// Whether the end `nop` and the skip rule are installed (see `installGuard`).
        var guardInstalled = false
        /// Each `/20` holding bound VIPs and the base priority of its rule section.
        var sections: [IPv4Subnet: UInt32] = [:]
    }

    /// The inputs of an agent's table: its addresses and the main default gateway.
    private struct AgentRoutes: Equatable {
        var interfaces: Set<IPv4Interface>
        var gateway: IPv4Address?
    }

    /// Opens the netlink socket (inside the network namespace at `namespacePath`,
    /// e.g. `/var/run/netns/lab`, when given).
    public init(logger: Logger = Logger(label: "proxyarpd.netlink"), namespacePath: String? = nil,
                rulePriority: UInt32 = 1000, tableBase: UInt32 = 20000, blockPrefixLength: Int = 32) throws(NetlinkError) {
        guard (0...32).contains(blockPrefixLength) else {
            throw NetlinkError(operation: "block prefix length \(blockPrefixLength) out of 0...32", code: EINVAL)
        }
        guard rulePriority > 10, rulePriority + 36 < 32_700 else {
            throw NetlinkError(operation: "rule priority \(rulePriority): the guard needs 11...32663", code: EINVAL)
        }
        self.logger = logger
        self.namespacePath = namespacePath
        self.rulePriority = rulePriority
        self.tableBase = tableBase
        self.blockPrefixLength = blockPrefixLength
        let fd = try NetworkNamespace.run(in: namespacePath) { () throws(NetlinkError) -> Int32 in
            try NetlinkSocket.openDescriptor(groups: 0, receiveBufferSize: nil)
        }
        state = Mutex(State(socket: NetlinkSocket(adopting: fd), bindings: BlockBindings(prefixLength: blockPrefixLength)))
    }

    /// The routing table that holds `ifindex`'s routes.
    public func table(forInterfaceIndex index: Int32) -> UInt32 { tableBase + UInt32(bitPattern: index) }

    // MARK: sysctls

    /// The sysctls `prepare(adapter:)` writes, in order.
    public static let adapterSysctls: [(key: String, value: String)] = [
        ("arp_ignore", "1"), ("arp_announce", "2"), ("ignore_routes_with_linkdown", "1"),
    ]

    public func prepare(adapter: AdapterName) async throws {
        try prepareSynchronously(adapter: adapter)
    }

    /// ``prepare(adapter:)`` without `async`.
    public func prepareSynchronously(adapter: AdapterName) throws(NetlinkError) {
        let name = adapter.rawValue
        guard !name.isEmpty, name.utf8.count < Int(IFNAMSIZ), name != ".", name != "..", !name.contains("/") else {
            throw NetlinkError(operation: "prepare \(name): not an interface name", code: EINVAL)
        }
        for (key, value) in Self.adapterSysctls {
            let path = "/proc/sys/net/ipv4/conf/\(name)/\(key)"
            try NetworkNamespace.run(in: namespacePath) { () throws(NetlinkError) in
                try Self.writeSysctl(path: path, value: value)
            }
            logger.info("set \(key)=\(value) on \(name)", metadata: ["sysctl": "\(path)"])
        }
    }

    private static func writeSysctl(path: String, value: String) throws(NetlinkError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw NetlinkError(operation: "open \(path)", code: errno) }
        defer { close(fd) }
        let bytes = Array("\(value)\n".utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw NetlinkError(operation: "write \(path)", code: written < 0 ? errno : EIO) }
    }

    // MARK: VIP on lo

    public func addLocalAddress(_ vip: IPv4Address) async throws {
        try addLocalAddressSynchronously(vip)
    }

    public func removeLocalAddress(_ vip: IPv4Address) async throws {
        try removeLocalAddressSynchronously(vip)
    }

    /// Makes `vip` local: `vip/32` on `lo`, or (larger blocks) its block's local routes
    /// updated to cover it. Already local is fine.
    public func addLocalAddressSynchronously(_ vip: IPv4Address) throws(NetlinkError) {
        try state.withLock { state throws(NetlinkError) in
            let lo = try Self.loopbackIndex(&state)
            if blockPrefixLength < 32 {
                state.bindings.setLocal(vip, true)
                try syncLocalRoutes(inBlockOf: vip, loopback: lo, &state)
                return
            }
            let request = Self.addressRequest(
                type: UInt16(RTM_NEWADDR), flags: CLN_NLM_F_CREATE | CLN_NLM_F_EXCL, vip: vip, index: lo)
            let code = try state.socket.execute(request, tolerating: [EEXIST])
            logger.debug("\(code == 0 ? "added" : "already had") \(vip)/32 on lo")
        }
    }

    /// Makes `vip` no longer local; not local is fine.
    public func removeLocalAddressSynchronously(_ vip: IPv4Address) throws(NetlinkError) {
        try state.withLock { state throws(NetlinkError) in
            let lo = try Self.loopbackIndex(&state)
            if blockPrefixLength < 32 {
                state.bindings.setLocal(vip, false)
                try syncLocalRoutes(inBlockOf: vip, loopback: lo, &state)
                return
            }
            let request = Self.addressRequest(type: UInt16(RTM_DELADDR), flags: 0, vip: vip, index: lo)
            let code = try state.socket.execute(request, tolerating: [EADDRNOTAVAIL, ENOENT])
            logger.debug("\(code == 0 ? "removed" : "did not have") \(vip)/32 on lo")
        }
    }

    private static func loopbackIndex(_ state: inout State) throws(NetlinkError) -> Int32 {
        if let index = state.loopbackIndex { return index }
        let index = try link(named: "lo", on: &state.socket).index
        state.loopbackIndex = index
        return index
    }

    /// Adds the local routes `vip`'s block now needs, then deletes those it no longer does.
    private func syncLocalRoutes(inBlockOf vip: IPv4Address, loopback: Int32, _ state: inout State) throws(NetlinkError) {
        let key = state.bindings.block(of: vip).network
        let wanted = state.bindings.localRoutes(inBlockOf: vip)
        let installed = state.installedLocalRoutes[key] ?? []
        for subnet in wanted.subtracting(installed).sorted(by: { $0.network < $1.network }) {
            try state.socket.execute(localRouteRequest(type: UInt16(RTM_NEWROUTE), subnet: subnet, loopback: loopback))
        }
        for subnet in installed.subtracting(wanted).sorted(by: { $0.network < $1.network }) {
            try state.socket.execute(
                localRouteRequest(type: UInt16(RTM_DELROUTE), subnet: subnet, loopback: loopback), tolerating: [ESRCH, ENOENT])
        }
        state.installedLocalRoutes[key] = wanted.isEmpty ? nil : wanted
    }

    /// `local SUBNET dev lo table local proto 154 scope host`.
    private func localRouteRequest(type: UInt16, subnet: IPv4Subnet, loopback: Int32) -> NetlinkRequest {
        let verb = type == UInt16(RTM_NEWROUTE) ? "RTM_NEWROUTE" : "RTM_DELROUTE"
        var request = NetlinkRequest(
            type: type, flags: type == UInt16(RTM_NEWROUTE) ? CLN_NLM_F_CREATE | CLN_NLM_F_REPLACE : 0,
            label: "\(verb) local \(subnet) dev lo table local")
        var header = rtmsg()
        header.rtm_family = UInt8(AF_INET)
        header.rtm_dst_len = UInt8(subnet.prefixLength)
        header.rtm_table = UInt8(RT_TABLE_LOCAL.rawValue)
        header.rtm_protocol = Self.routeProtocol
        header.rtm_scope = UInt8(RT_SCOPE_HOST.rawValue)
        header.rtm_type = UInt8(RTN_LOCAL)
        request.append(header: header)
        request.appendAttribute(Int(RTA_TABLE.rawValue), uint32: UInt32(RT_TABLE_LOCAL.rawValue))
        request.appendAttribute(Int(RTA_DST.rawValue), ipv4: subnet.network)
        request.appendAttribute(Int(RTA_OIF.rawValue), uint32: UInt32(bitPattern: loopback))
        return request
    }

    private static func addressRequest(type: UInt16, flags: UInt16, vip: IPv4Address, index: Int32) -> NetlinkRequest {
        let verb = type == UInt16(RTM_NEWADDR) ? "RTM_NEWADDR" : "RTM_DELADDR"
        var request = NetlinkRequest(type: type, flags: flags, label: "\(verb) \(vip)/32 dev lo")
        var header = ifaddrmsg()
        header.ifa_family = UInt8(AF_INET)
        header.ifa_prefixlen = 32
        header.ifa_scope = UInt8(RT_SCOPE_UNIVERSE.rawValue)
        header.ifa_index = UInt32(bitPattern: index)
        request.append(header: header)
        request.appendAttribute(Int(IFA_LOCAL), ipv4: vip)
        request.appendAttribute(Int(IFA_ADDRESS), ipv4: vip)
        return request
    }

    // MARK: outbound path

    public func bindOutboundPath(of vip: IPv4Address, to agent: AdapterName, replacing: AdapterName?) async throws {
        try bindOutboundPathSynchronously(of: vip, to: agent, replacing: replacing)
    }

    public func unbindOutboundPath(of vip: IPv4Address, from agent: AdapterName) async throws {
        try unbindOutboundPathSynchronously(of: vip, from: agent)
    }

    /// Refreshes `T(agent)` if its inputs changed, binds `vip` to `T(agent)`, then adds the
    /// rules its block now needs before deleting those it no longer does (make before
    /// break; see ``BlockBindings``). With blocks of one address, a rule of `replacing`
    /// this process did not install (say, left by an earlier run) is deleted too.
    public func bindOutboundPathSynchronously(of vip: IPv4Address, to agent: AdapterName, replacing: AdapterName?) throws(NetlinkError) {
        try state.withLock { state throws(NetlinkError) in
            let link = try Self.link(named: agent.rawValue, on: &state.socket)
            let table = table(forInterfaceIndex: link.index)
            try refreshRoutesIfChanged(of: link, in: table, &state)
            try installGuard(for: vip, &state)
            var changes = state.bindings.bind(vip, to: table)
            if blockPrefixLength == 32, let replacing, replacing != agent,
                let old = try? Self.link(named: replacing.rawValue, on: &state.socket)
            {
                let stale = BlockBindings.Rule(source: state.bindings.block(of: vip), table: self.table(forInterfaceIndex: old.index))
                if !changes.removed.contains(stale) { changes.removed.append(stale) }
            }
            try apply(changes, &state)
            logger.debug("bound \(vip) to \(agent)", metadata: [
                "table": "\(table)", "added": "\(changes.added)", "removed": "\(changes.removed)",
            ])
        }
    }

    /// Unbinds `vip`: rules left covering no VIP bound to their table are deleted.
    /// Unbound is fine.
    public func unbindOutboundPathSynchronously(of vip: IPv4Address, from agent: AdapterName) throws(NetlinkError) {
        try state.withLock { state throws(NetlinkError) in
            let wasBound = state.bindings.table(of: vip) != nil
            var changes = state.bindings.bind(vip, to: nil)
            if !wasBound, blockPrefixLength == 32, let link = try? Self.link(named: agent.rawValue, on: &state.socket) {
                changes.removed.append(.init(source: state.bindings.block(of: vip), table: table(forInterfaceIndex: link.index)))
            }
            try apply(changes, &state)
            logger.debug("unbound \(vip) from \(agent)", metadata: ["removed": "\(changes.removed)"])
        }
    }

    /// Adds, then deletes.
    private func apply(_ changes: BlockBindings.RuleChanges, _ state: inout State) throws(NetlinkError) {
        for rule in changes.added {
            try state.socket.execute(
                ruleRequest(type: UInt16(RTM_NEWRULE), flags: CLN_NLM_F_CREATE | CLN_NLM_F_EXCL, rule: rule,
                            priority: priority(of: rule, state)),
                tolerating: [EEXIST])
        }
        for rule in changes.removed {
            try state.socket.execute(
                ruleRequest(type: UInt16(RTM_DELRULE), flags: 0, rule: rule, priority: priority(of: rule, state)),
                tolerating: [ENOENT])
        }
    }

    // MARK: the guard

    /// The guard's granularity: the VIP rules of each `/20` (4,096 addresses) holding bound
    /// VIPs form a section of their own. 100,000 VIPs in two ranges make 25 sections.
    public static let guardPrefixLength = 20
    /// Priorities per section: the anchor, the 33 prefix lengths, the exit.
    static let sectionSpan: UInt32 = 36
    /// The priority every skip and section exit jumps to: the end of proxyarpd's rules.
    public var endPriority: UInt32 { 32_700 }
    /// How many `/20` sections fit between ``rulePriority`` and ``endPriority``.
    public var maximumSections: Int { Int((endPriority - rulePriority) / Self.sectionSpan) }

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
    /// rules of others there are skipped.
    private func installGuard(for vip: IPv4Address, _ state: inout State) throws(NetlinkError) {
        if !state.guardInstalled {
            try addRule(priority: endPriority, action: UInt8(FR_ACT_NOP), &state)
            try addRule(priority: rulePriority - 1, action: UInt8(FR_ACT_GOTO), goto: endPriority, &state)
            state.guardInstalled = true
        }
        let prefix = IPv4Subnet.block(containing: vip, prefixLength: Self.guardPrefixLength)
        guard state.sections[prefix] == nil else { return }
        guard state.sections.count < maximumSections else {
            throw NetlinkError(
                operation: "bind \(vip): more than \(maximumSections) /\(Self.guardPrefixLength)s hold VIPs", code: ENOSPC)
        }
        let base = rulePriority + UInt32(state.sections.count) * Self.sectionSpan
        try addRule(priority: base, action: UInt8(FR_ACT_NOP), &state)
        try addRule(priority: base + 33, action: UInt8(FR_ACT_GOTO), goto: endPriority, &state)
        try addRule(priority: rulePriority - 10, source: prefix, action: UInt8(FR_ACT_GOTO), goto: base, &state)
        state.sections[prefix] = base
        logger.debug("rule section for \(prefix) at \(base)")
    }

    private func addRule(
        priority: UInt32, source: IPv4Subnet? = nil, action: UInt8, goto target: UInt32? = nil, _ state: inout State
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
        request.appendAttribute(Int(CLN_FRA_PROTOCOL), uint8: Self.routeProtocol)
        try state.socket.execute(request, tolerating: [EEXIST])
    }

    /// A VIP rule's priority: its section's base for `/32`, one more per shorter prefix, so
    /// the kernel tries the most specific rule first.
    private func priority(of rule: BlockBindings.Rule, _ state: borrowing State) -> UInt32 {
        let section = IPv4Subnet.block(containing: rule.source.network, prefixLength: Self.guardPrefixLength)
        return (state.sections[section] ?? rulePriority) + UInt32(32 - rule.source.prefixLength)
    }

    private func ruleRequest(type: UInt16, flags: UInt16, rule: BlockBindings.Rule, priority: UInt32) -> NetlinkRequest {
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
            request.appendAttribute(Int(CLN_FRA_PROTOCOL), uint8: Self.routeProtocol)
        }
        return request
    }

    /// Rewrites `table` (see ``refreshRoutes``) when the agent's addresses or the main
    /// default gateway differ from the last time, or the table was never written.
    private func refreshRoutesIfChanged(of link: LinkRecord, in table: UInt32, _ state: inout State) throws(NetlinkError) {
        let interfaces = try state.socket.dump(RouteRequests.dumpIPv4Addresses(index: link.index))
            .compactMap(AddressRecord.init).filter { $0.index == link.index }.map(\.interface)
        let current = AgentRoutes(interfaces: Set(interfaces), gateway: try mainDefaultGateway(on: &state.socket))
        guard state.agentRoutes[link.index] != current else { return }
        try refreshRoutes(of: link, interfaces: interfaces, gateway: current.gateway, in: table, on: &state.socket)
        state.agentRoutes[link.index] = current
    }

    /// Writes the agent's connected routes (and a default route, see the type comment)
    /// into `table` with `NLM_F_REPLACE`.
    private func refreshRoutes(
        of link: LinkRecord, interfaces: [IPv4Interface], gateway: IPv4Address?, in table: UInt32,
        on socket: inout NetlinkSocket
    ) throws(NetlinkError) {
        if interfaces.isEmpty {
            logger.warning("\(link.name) has no IPv4 address: table \(table) stays empty, VIP traffic follows the main table")
        }
        var wanted = Set(interfaces.map(\.subnet))
        for interface in interfaces {
            var request = routeRequest(
                type: UInt16(RTM_NEWROUTE), flags: CLN_NLM_F_CREATE | CLN_NLM_F_REPLACE, table: table,
                destination: interface.subnet, label: "\(interface.subnet) dev \(link.name) src \(interface.address)")
            request.appendAttribute(Int(RTA_OIF.rawValue), uint32: UInt32(bitPattern: link.index))
            request.appendAttribute(Int(RTA_PREFSRC.rawValue), ipv4: interface.address)
            try socket.execute(request)
        }
        if let gateway, let source = interfaces.first(where: { $0.subnet.contains(gateway) })
        {
            var request = routeRequest(
                type: UInt16(RTM_NEWROUTE), flags: CLN_NLM_F_CREATE | CLN_NLM_F_REPLACE, table: table,
                destination: IPv4Subnet(address: .any, prefixLength: 0)!,
                label: "default via \(gateway) dev \(link.name)")
            request.appendAttribute(Int(RTA_GATEWAY.rawValue), ipv4: gateway)
            request.appendAttribute(Int(RTA_OIF.rawValue), uint32: UInt32(bitPattern: link.index))
            request.appendAttribute(Int(RTA_PREFSRC.rawValue), ipv4: source.address)
            try socket.execute(request)
            wanted.insert(IPv4Subnet(address: .any, prefixLength: 0)!)
        }
        try pruneRoutes(in: table, keeping: wanted, on: &socket)
    }

    /// Deletes our routes in `table` whose destination is not in `wanted`: a subnet the
    /// agent no longer has, or a default route whose gateway left the agent's subnets.
    private func pruneRoutes(in table: UInt32, keeping wanted: Set<IPv4Subnet>, on socket: inout NetlinkSocket) throws(NetlinkError) {
        var stale: [NetlinkMessage] = []
        for message in try socket.dump(Self.routeDump(table: table)) where message.type == UInt16(RTM_NEWROUTE) {
            guard let header = message.familyHeader(rtmsg.self), header.rtm_protocol == Self.routeProtocol else { continue }
            let attributes = message.attributes(afterHeaderOf: MemoryLayout<rtmsg>.size)
            guard Self.table(of: header, attributes) == table,
                let destination = IPv4Subnet(
                    address: attributes.ipv4(Int(RTA_DST.rawValue)) ?? .any, prefixLength: Int(header.rtm_dst_len)),
                !wanted.contains(destination)
            else { continue }
            stale.append(message)
        }
        for message in stale {
            try socket.execute(
                NetlinkRequest(type: UInt16(RTM_DELROUTE), flags: 0, label: "RTM_DELROUTE stale route in table \(table)",
                               echoing: message),
                tolerating: [ESRCH, ENOENT])
        }
        if !stale.isEmpty { logger.debug("pruned \(stale.count) stale route(s) from table \(table)") }
    }

    private func routeRequest(type: UInt16, flags: UInt16, table: UInt32, destination: IPv4Subnet, label: String) -> NetlinkRequest {
        var request = NetlinkRequest(type: type, flags: flags, label: "RTM_NEWROUTE \(label) table \(table)")
        var header = rtmsg()
        header.rtm_family = UInt8(AF_INET)
        header.rtm_dst_len = UInt8(destination.prefixLength)
        header.rtm_table = UInt8(RT_TABLE_UNSPEC.rawValue)  // the real id is in RTA_TABLE
        header.rtm_protocol = Self.routeProtocol
        header.rtm_scope = UInt8(destination.prefixLength == 0 ? RT_SCOPE_UNIVERSE.rawValue : RT_SCOPE_LINK.rawValue)
        header.rtm_type = UInt8(RTN_UNICAST)
        request.append(header: header)
        request.appendAttribute(Int(RTA_TABLE.rawValue), uint32: table)
        if destination.prefixLength > 0 {
            request.appendAttribute(Int(RTA_DST.rawValue), ipv4: destination.network)
        }
        return request
    }

    /// The gateway of the main table's single-path IPv4 default route, if any.
    private func mainDefaultGateway(on socket: inout NetlinkSocket) throws(NetlinkError) -> IPv4Address? {
        for message in try socket.dump(Self.routeDump(table: UInt32(RT_TABLE_MAIN.rawValue))) {
            guard message.type == UInt16(RTM_NEWROUTE), let header = message.familyHeader(rtmsg.self),
                header.rtm_dst_len == 0, header.rtm_type == UInt8(RTN_UNICAST)
            else { continue }
            let attributes = message.attributes(afterHeaderOf: MemoryLayout<rtmsg>.size)
            guard Self.table(of: header, attributes) == UInt32(RT_TABLE_MAIN.rawValue) else { continue }
            if let gateway = attributes.ipv4(Int(RTA_GATEWAY.rawValue)) { return gateway }
        }
        return nil
    }

    private static func routeDump(table: UInt32) -> NetlinkRequest {
        var request = NetlinkRequest(type: UInt16(RTM_GETROUTE), flags: 0, label: "RTM_GETROUTE dump table \(table)")
        var header = rtmsg()
        header.rtm_family = UInt8(AF_INET)
        request.append(header: header)
        if table != 0 { request.appendAttribute(Int(RTA_TABLE.rawValue), uint32: table) }
        return request
    }

    private static func table(of header: rtmsg, _ attributes: NetlinkAttributes) -> UInt32 {
        attributes.uint32(Int(RTA_TABLE.rawValue)) ?? UInt32(header.rtm_table)
    }

    // MARK: cleanup

    /// Removes every rule at ``rulePriority`` - 10 ... ``endPriority`` (the VIP rules and
    /// their guard) that points into our tables or carries our
    /// protocol, and every route of our protocol in our tables (not the local routes that
    /// make VIPs local: withdrawing a VIP removes those). For shutdown.
    /// Returns how many rules and routes were deleted.
    @discardableResult
    public func cleanup() throws(NetlinkError) -> (rules: Int, routes: Int) {
        try state.withLock { state throws(NetlinkError) in
            let ours = tableBase..<(tableBase &+ Self.tableSpan)
            var ruleRequest = NetlinkRequest(type: UInt16(RTM_GETRULE), flags: 0, label: "RTM_GETRULE dump")
            var ruleHeader = fib_rule_hdr()
            ruleHeader.family = UInt8(AF_INET)
            ruleRequest.append(header: ruleHeader)
            var rules = 0
            for message in try state.socket.dump(ruleRequest) where message.type == UInt16(RTM_NEWRULE) {
                guard let header = message.familyHeader(fib_rule_hdr.self) else { continue }
                let attributes = message.attributes(afterHeaderOf: MemoryLayout<fib_rule_hdr>.size)
                let table = attributes.uint32(Int(FRA_TABLE)) ?? UInt32(header.table)
                guard let priority = attributes.uint32(Int(FRA_PRIORITY)),
                    (rulePriority - 10...endPriority).contains(priority),
                    ours.contains(table) || attributes.uint8(Int(CLN_FRA_PROTOCOL)) == Self.routeProtocol
                else { continue }
                let delete = NetlinkRequest(
                    type: UInt16(RTM_DELRULE), flags: 0, label: "RTM_DELRULE pref \(priority) table \(table)",
                    echoing: message)
                if try state.socket.execute(delete, tolerating: [ENOENT]) == 0 { rules += 1 }
            }
            var routes = 0
            for message in try state.socket.dump(Self.routeDump(table: 0)) where message.type == UInt16(RTM_NEWROUTE) {
                guard let header = message.familyHeader(rtmsg.self), header.rtm_protocol == Self.routeProtocol else { continue }
                let attributes = message.attributes(afterHeaderOf: MemoryLayout<rtmsg>.size)
                let table = Self.table(of: header, attributes)
                guard ours.contains(table) else { continue }
                let delete = NetlinkRequest(
                    type: UInt16(RTM_DELROUTE), flags: 0, label: "RTM_DELROUTE table \(table)", echoing: message)
                if try state.socket.execute(delete, tolerating: [ESRCH, ENOENT]) == 0 { routes += 1 }
            }
            // Local VIPs (addresses or local routes) stay: the engine's withdrawals decide them.
            state.bindings.removeAllRules()
            state.agentRoutes = [:]
            state.guardInstalled = false
            state.sections = [:]
            logger.info("removed proxyarpd rules and routes", metadata: ["rules": "\(rules)", "routes": "\(routes)"])
            return (rules, routes)
        }
    }

    // MARK: links

    /// One link by name, from the kernel (not `if_nametoindex`, which would ask the
    /// caller's namespace rather than the socket's).
    private static func link(named name: String, on socket: inout NetlinkSocket) throws(NetlinkError) -> LinkRecord {
        var replies: [NetlinkMessage] = []
        try socket.execute(RouteRequests.getLink(named: name), replies: &replies)
        guard let link = replies.lazy.compactMap(LinkRecord.init).first else {
            throw NetlinkError(operation: "RTM_GETLINK \(name)", code: ENODEV)
        }
        return link
    }
}
