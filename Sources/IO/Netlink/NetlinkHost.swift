import Glibc
import Logging
import ProxyARPCore
import ProxyARPStateMachines
import Synchronization

/// The host-side effects of activation over rtnetlink and `/proc/sys` (ARCHITECTURE.md §2),
/// one synchronous API whose calls each are a few netlink round trips under a mutex
/// (microseconds), run on the caller's thread. Its jobs, one file each:
///
/// - ``AdapterSysctls``: `prepare(adapter:)` writes `arp_ignore=1`, `arp_announce=2` and
///   `ignore_routes_with_linkdown=1`.
/// - ``LocalAddresses``: a VIP made local, as a `/32` on `lo` (``blockPrefixLength`` 32,
///   the default) or by `local` routes on `lo` covering its block's local VIPs.
/// - ``RuleSections``: the VIP's outbound path as a policy rule `from SUBNET lookup
///   T(agent)` in the rule section of its `/20`, most specific first; which rules a block
///   needs is decided by the pure ``BlockBindings`` (one `/32` rule per VIP with blocks of
///   one address, one rule per run of VIPs on one agent otherwise).
/// - ``AgentTables``: `T(agent) = tableBase + ifindex(agent)`, the agent's connected routes
///   and default route, rewritten when its inputs change.
/// - IPv6 VIPs: `VIP/128` on `lo` without DAD (``IPv6LocalAddress``), a rule `from VIP/128
///   lookup T(agent)` and the agent's IPv6 prefixes in `T(agent)` (``IPv6OutboundPaths``),
///   and the VIP's solicited-node group joined on its agent (``SolicitedNodeMemberships``).
///
/// Routes and rules carry the protocol number ``routeProtocol`` so ``cleanup()`` finds
/// exactly ours. With `namespacePath` the socket and the sysctl files are opened inside
/// that network namespace (see ``NetworkNamespace``). Every call throws a
/// ``HostNetworkingError`` with a code.
public final class NetlinkHost: HostNetworking {
    /// The first priority of the VIP rules: the `/32` rules of the first `/20` section;
    /// all of proxyarpd's rules sit between this minus 10 and ``endPriority``.
    public let rulePriority: UInt32
    /// `T(agent) = tableBase + ifindex`.
    public let tableBase: UInt32
    /// VIPs are bound in aligned blocks of this prefix length (see ``BlockBindings``).
    public let blockPrefixLength: Int
    /// `rtm_protocol` / `FRA_PROTOCOL` of everything proxyarpd installs.
    public static let routeProtocol: UInt8 = 0x9a
    /// The tables ``cleanup()`` considers ours: `tableBase ..< tableBase + tableSpan`.
    public static let tableSpan: UInt32 = 1 << 20
    /// The granularity of the rule sections: one per `/20` holding bound VIPs.
    public static let guardPrefixLength = RuleSections.guardPrefixLength
    /// The sysctls `prepare(adapter:)` writes, in order.
    public static let adapterSysctls = AdapterSysctls.values

    private let namespacePath: String?
    /// The host's logger (also for the batch binds in NetlinkHost+OutboundBatch.swift).
    let logger: Logger
    /// The socket and what the kernel should hold, under one lock (the batch binds take it too).
    let state: Mutex<State>
    /// The solicited-node groups of IPv6 VIPs on their agents; nil when the host has no IPv6.
    private let memberships: SolicitedNodeMemberships?

    /// Everything a netlink call reads or changes.
    struct State: ~Copyable {
        var socket: NetlinkSocket
        /// What the kernel should hold, per block (local VIPs tracked in block mode only).
        var bindings: BlockBindings
        var local: LocalAddresses
        var rules: RuleSections
        var tables: AgentTables
        var ipv6: IPv6OutboundPaths
        /// Each prepared adapter's sysctls as found before the first `prepare`.
        var originalSysctls: [AdapterName: [(key: String, value: String)]] = [:]
    }

    /// Opens the netlink socket (inside the network namespace at `namespacePath`,
    /// e.g. `/var/run/netns/lab`, when given).
    /// - Throws: `.invalidArgument` for a block prefix length outside 0...32 or a rule
    ///   priority outside 11...32663; the socket's error otherwise.
    public init(logger: Logger = Logger(label: "proxyarpd.netlink"), namespacePath: String? = nil,
                rulePriority: UInt32 = 1000, tableBase: UInt32 = 20000, blockPrefixLength: Int = 32) throws(HostNetworkingError) {
        guard (0...32).contains(blockPrefixLength) else {
            throw NetlinkError(operation: "block prefix length \(blockPrefixLength) out of 0...32", code: EINVAL).hostNetworkingError
        }
        guard rulePriority > 10, rulePriority + 36 < RuleSections.endPriority else {
            throw NetlinkError(operation: "rule priority \(rulePriority): the guard needs 11...32663", code: EINVAL).hostNetworkingError
        }
        self.logger = logger
        self.namespacePath = namespacePath
        self.rulePriority = rulePriority
        self.tableBase = tableBase
        self.blockPrefixLength = blockPrefixLength
        let fd: Int32
        do {
            fd = try NetworkNamespace.run(in: namespacePath) { () throws(NetlinkError) -> Int32 in
                try NetlinkSocket.openDescriptor(groups: 0, receiveBufferSize: nil)
            }
        } catch {
            throw error.hostNetworkingError
        }
        state = Mutex(State(
            socket: NetlinkSocket(adopting: fd), bindings: BlockBindings(prefixLength: blockPrefixLength),
            local: LocalAddresses(blockPrefixLength: blockPrefixLength), rules: RuleSections(rulePriority: rulePriority),
            tables: AgentTables(tableBase: tableBase), ipv6: IPv6OutboundPaths(rulePriority: rulePriority)))
        do {
            memberships = try SolicitedNodeMemberships(namespacePath: namespacePath)
        } catch {
            logger.warning("no IPv6 socket: IPv6 VIPs join no solicited-node group", metadata: ["error": "\(error)"])
            memberships = nil
        }
    }

    /// The routing table that holds `ifindex`'s routes.
    public func table(forInterfaceIndex index: Int32) -> UInt32 { tableBase + UInt32(bitPattern: index) }

    /// The priority every skip and section exit jumps to: the end of proxyarpd's rules.
    public var endPriority: UInt32 { RuleSections.endPriority }
    /// How many `/20` sections fit between ``rulePriority`` and ``endPriority``.
    public var maximumSections: Int { RuleSections(rulePriority: rulePriority).maximumSections }

    /// Writes the adapter's sysctls (see ``adapterSysctls``), remembering the values found
    /// the first time for ``restoreAdapterSysctls()``.
    public func prepare(adapter: AdapterName) throws(HostNetworkingError) {
        let found: [(key: String, value: String)]
        do {
            found = try AdapterSysctls.write(adapter: adapter, namespacePath: namespacePath, logger: logger)
        } catch {
            throw error.hostNetworkingError
        }
        state.withLock { state in
            if state.originalSysctls[adapter] == nil { state.originalSysctls[adapter] = found }
        }
    }

    /// Writes back the sysctls every prepared adapter had before its first `prepare` (for
    /// exit). After a `kill -9` the next instance finds proxyarpd's own values and restores
    /// those: the originals died with the killed process. Returns how many were written.
    @discardableResult
    public func restoreAdapterSysctls() throws(HostNetworkingError) -> Int {
        let originals = state.withLock { state in
            defer { state.originalSysctls = [:] }
            return state.originalSysctls.map { ($0.key, $0.value) }
        }
        var restored = 0
        do {
            for (adapter, values) in originals.sorted(by: { $0.0 < $1.0 }) {
                restored += try AdapterSysctls.restore(values, adapter: adapter, namespacePath: namespacePath, logger: logger)
            }
        } catch {
            throw error.hostNetworkingError
        }
        return restored
    }

    /// Reconciles what an earlier instance left (see ``HostNetworking/reconcile(vips:adapters:)``
    /// and the pure ``StartupReconcile``): unwanted rules, local addresses or routes and
    /// tables of adapters gone are deleted; kept sections, bindings and local routes are
    /// taken over, so later binds replace them instead of adding a second rule.
    public func reconcile(vips: AddressSet, adapters: [AdapterName]) throws(HostNetworkingError) -> HostReconciliation {
        try withState { state throws(NetlinkError) in
            var owners: [UInt32: AdapterName] = [:]
            for name in adapters {
                if let link = try? state.socket.link(named: name.rawValue) { owners[table(forInterfaceIndex: link.index)] = name }
            }
            let rules = try state.rules.found(pointingInto: state.tables.ours, socket: &state.socket)
            let local = try state.local.found(socket: &state.socket)
            let found = StartupReconcile.Found(
                rules: rules.map(\.rule), localAddresses: local.addresses.map(\.0), localRoutes: local.routes.map(\.0),
                tables: try state.tables.found(socket: &state.socket))
            let plan = StartupReconcile.plan(
                found: found, configured: vips, agentTables: Set(owners.keys),
                layout: .init(rulePriority: rulePriority, sectionSpan: RuleSections.sectionSpan,
                              endPriority: RuleSections.endPriority, guardPrefixLength: RuleSections.guardPrefixLength),
                blockPrefixLength: blockPrefixLength)
            // Rules: delete what the plan drops (both lists keep the found order).
            var kept = plan.keptRules[...]
            var dropped: [NetlinkMessage] = []
            for (rule, message) in rules {
                if kept.first == rule { kept.removeFirst() } else { dropped.append(message) }
            }
            let removedRules = try state.rules.remove(dropped, socket: &state.socket)
            let keptStructure = Set(plan.keptRules)
            state.rules.adopt(
                sections: plan.sections,
                guardInstalled: keptStructure.contains(.init(priority: RuleSections.endPriority, source: nil, action: .nop))
                    && keptStructure.contains(.init(priority: rulePriority - 1, source: nil, action: .goto(RuleSections.endPriority))))
            // Bindings: each kept VIP bound where its rule points; in block mode the rules the
            // bindings then want are made to match the kept ones.
            var wanted: Set<BlockBindings.Rule> = []
            for (vip, table) in plan.previousTables {
                _ = state.bindings.bind(vip, to: table)
            }
            for vip in plan.previousTables.keys { wanted.formUnion(state.bindings.rules(inBlockOf: vip)) }
            let keptLookups = Set(plan.keptRules.compactMap { rule -> BlockBindings.Rule? in
                guard let source = rule.source, case .lookup(let table) = rule.action else { return nil }
                return .init(source: source, table: table)
            })
            try state.rules.apply(
                .init(added: wanted.subtracting(keptLookups).sorted(), removed: keptLookups.subtracting(wanted).sorted()),
                socket: &state.socket)
            // Local VIPs and tables of adapters gone.
            let removedAddresses = Set(plan.removedAddresses)
            let removedRoutes = Set(plan.removedLocalRoutes)
            state.local.adopt(routes: plan.keptLocalRoutes, bindings: &state.bindings)
            for route in plan.removedLocalRoutes where route.prefixLength >= blockPrefixLength {
                let keeping = Array(route.addresses.filter { vips.contains($0) })
                try state.local.replace(route, keeping: keeping, bindings: &state.bindings, socket: &state.socket)
            }
            let removedLocal = try state.local.remove(
                local.addresses.filter { removedAddresses.contains($0.0) }.map(\.1)
                    + local.routes.filter { removedRoutes.contains($0.0) }.map(\.1),
                socket: &state.socket)
            let tableRoutes = try state.tables.removeAll(in: plan.removedTables, socket: &state.socket)
            // IPv6 rules and routes are not adopted: what an earlier instance left is removed,
            // and each IPv6 VIP is bound again on activation.
            let ipv6 = try state.ipv6.removeAll(tables: state.tables.ours, socket: &state.socket)
            let result = HostReconciliation(
                previousAgents: Dictionary(
                    uniqueKeysWithValues: plan.previousTables.compactMapValues { owners[$0] }.map { (IPAddress.v4($0.key), $0.value) }),
                keptRules: plan.keptRules.count, removedRules: removedRules + ipv6.rules, removedLocal: removedLocal,
                removedRoutes: tableRoutes + ipv6.routes)
            logger.info("reconciled what an earlier instance left", metadata: [
                "keptRules": "\(result.keptRules)", "removedRules": "\(result.removedRules)",
                "adoptedVIPs": "\(result.previousAgents.count)", "removedLocal": "\(result.removedLocal)",
                "removedRoutes": "\(result.removedRoutes)",
            ])
            return result
        }
    }

    /// Rewrites `T(adapter)` from the adapter's current addresses and the main default
    /// gateway (see ``AgentTables``), even when they look unchanged.
    public func refreshAgentTable(of adapter: AdapterName) throws(HostNetworkingError) {
        try withState { state throws(NetlinkError) in
            let link = try state.socket.link(named: adapter.rawValue)
            let table = try state.tables.rewrite(of: link, socket: &state.socket, logger: logger)
            if !state.ipv6.tables.isEmpty {
                try state.ipv6.refreshRoutes(of: link, table: table, force: true, socket: &state.socket, logger: logger)
            }
            logger.debug("agent table rewritten", metadata: ["adapter": "\(adapter)", "table": "\(table)"])
        }
    }

    /// Makes `vip` local (`vip/32` or `vip/128` on `lo`, see the per-family overloads).
    /// Already local is fine.
    public func addLocalAddress(_ vip: IPAddress) throws(HostNetworkingError) {
        switch vip {
        case .v4(let address): try addLocalAddress(address)
        case .v6(let address): try addLocalAddress(address)
        }
    }

    /// Makes `vip` no longer local; not local is fine.
    public func removeLocalAddress(_ vip: IPAddress) throws(HostNetworkingError) {
        switch vip {
        case .v4(let address): try removeLocalAddress(address)
        case .v6(let address): try removeLocalAddress(address)
        }
    }

    /// Binds `vip`'s outbound path to `agent` (see the per-family overloads).
    public func bindOutboundPath(of vip: IPAddress, to agent: AdapterName, replacing: AdapterName?) throws(HostNetworkingError) {
        switch vip {
        case .v4(let address): try bindOutboundPath(of: address, to: agent, replacing: replacing)
        case .v6(let address): try bindOutboundPath(of: address, to: agent, replacing: replacing)
        }
    }

    /// Unbinds `vip`'s outbound path from `agent` (see the per-family overloads).
    public func unbindOutboundPath(of vip: IPAddress, from agent: AdapterName) throws(HostNetworkingError) {
        switch vip {
        case .v4(let address): try unbindOutboundPath(of: address, from: agent)
        case .v6(let address): try unbindOutboundPath(of: address, from: agent)
        }
    }

    /// Binds the IPv6 VIP `vip` to `agent`: the agent's IPv6 prefixes in `T(agent)` (when
    /// they changed), the rule `from vip/128 lookup T(agent)` added before the one into
    /// `replacing`'s table is deleted, and the VIP's solicited-node group joined on `agent`
    /// before it is left on the previous agent (make before break, for MLD snooping too).
    public func bindOutboundPath(of vip: IPv6Address, to agent: AdapterName, replacing: AdapterName?) throws(HostNetworkingError) {
        let (index, previous) = try withState { state throws(NetlinkError) -> (UInt32, UInt32?) in
            let link = try state.socket.link(named: agent.rawValue)
            let table = self.table(forInterfaceIndex: link.index)
            try state.ipv6.refreshRoutes(of: link, table: table, socket: &state.socket, logger: logger)
            var stale: UInt32?
            if let replacing, replacing != agent, let old = try? state.socket.link(named: replacing.rawValue) {
                stale = self.table(forInterfaceIndex: old.index)
            }
            try state.ipv6.bind(vip, to: table, stale: stale, socket: &state.socket)
            let index = UInt32(bitPattern: link.index)
            return (index, state.ipv6.setGroup(of: vip, to: index))
        }
        guard let memberships, previous != index else { return }
        try memberships.join(for: vip, interfaceIndex: index)
        if let previous { try memberships.leave(for: vip, interfaceIndex: previous) }
        logger.debug("bound \(vip) to \(agent)", metadata: ["group": "\(vip.solicitedNodeGroup)"])
    }

    /// Unbinds the IPv6 VIP `vip`: its rule deleted, its solicited-node group left on its
    /// agent. Unbound is fine.
    public func unbindOutboundPath(of vip: IPv6Address, from agent: AdapterName) throws(HostNetworkingError) {
        let joined = try withState { state throws(NetlinkError) -> UInt32? in
            let fallback = (try? state.socket.link(named: agent.rawValue)).map { self.table(forInterfaceIndex: $0.index) }
            try state.ipv6.unbind(vip, fallback: fallback, socket: &state.socket)
            return state.ipv6.setGroup(of: vip, to: nil)
        }
        if let joined, let memberships { try memberships.leave(for: vip, interfaceIndex: joined) }
    }

    /// Distinct solicited-node groups joined now, over all agents (for tests and status).
    public var joinedSolicitedNodeGroups: Int { memberships?.joinedCount ?? 0 }

    /// Makes `vip` local: `vip/32` on `lo`, or (larger blocks) its block's local routes
    /// updated to cover it. Already local is fine.
    public func addLocalAddress(_ vip: IPv4Address) throws(HostNetworkingError) {
        try setLocal(vip, true)
    }

    /// Makes `vip` no longer local; not local is fine.
    public func removeLocalAddress(_ vip: IPv4Address) throws(HostNetworkingError) {
        try setLocal(vip, false)
    }

    /// Refreshes `T(agent)` if its inputs changed, binds `vip` to `T(agent)`, then adds the
    /// rules its block now needs before deleting those it no longer does (make before
    /// break; see ``BlockBindings``). With blocks of one address, a rule of `replacing`
    /// this process did not install (say, left by an earlier run) is deleted too.
    public func bindOutboundPath(of vip: IPv4Address, to agent: AdapterName, replacing: AdapterName?) throws(HostNetworkingError) {
        try withState { state throws(NetlinkError) in
            let link = try state.socket.link(named: agent.rawValue)
            let table = try state.tables.refreshIfChanged(of: link, socket: &state.socket, logger: logger)
            try state.rules.installGuard(for: vip, socket: &state.socket, logger: logger)
            var changes = state.bindings.bind(vip, to: table)
            if blockPrefixLength == 32, let replacing, replacing != agent,
                let old = try? state.socket.link(named: replacing.rawValue)
            {
                let stale = BlockBindings.Rule(source: state.bindings.block(of: vip), table: self.table(forInterfaceIndex: old.index))
                if !changes.removed.contains(stale) { changes.removed.append(stale) }
            }
            try state.rules.apply(changes, socket: &state.socket)
            logger.debug("bound \(vip) to \(agent)", metadata: [
                "table": "\(table)", "added": "\(changes.added)", "removed": "\(changes.removed)",
            ])
        }
    }

    /// Unbinds `vip`: rules left covering no VIP bound to their table are deleted.
    /// Unbound is fine.
    public func unbindOutboundPath(of vip: IPv4Address, from agent: AdapterName) throws(HostNetworkingError) {
        try withState { state throws(NetlinkError) in
            let wasBound = state.bindings.table(of: vip) != nil
            var changes = state.bindings.bind(vip, to: nil)
            if !wasBound, blockPrefixLength == 32, let link = try? state.socket.link(named: agent.rawValue) {
                changes.removed.append(.init(source: state.bindings.block(of: vip), table: table(forInterfaceIndex: link.index)))
            }
            try state.rules.apply(changes, socket: &state.socket)
            logger.debug("unbound \(vip) from \(agent)", metadata: ["removed": "\(changes.removed)"])
        }
    }

    /// Removes every rule at ``rulePriority`` - 10 ... ``endPriority`` (the VIP rules and
    /// their guard) that points into our tables or carries our protocol, and every route
    /// of our protocol in our tables, whichever instance installed them. With
    /// `removingLocal`, also every marked `/32` on `lo` and marked `local` route (the
    /// engine's withdrawals removed this instance's; these are what an earlier one left).
    /// For shutdown. Returns how many rules, routes and local addresses or routes were deleted.
    @discardableResult
    public func cleanup(removingLocal: Bool = false) throws(HostNetworkingError) -> (rules: Int, routes: Int, local: Int) {
        try withState { state throws(NetlinkError) in
            let ipv6 = try state.ipv6.removeAll(tables: state.tables.ours, socket: &state.socket)
            let rules = try state.rules.removeAll(pointingInto: state.tables.ours, socket: &state.socket) + ipv6.rules
            let routes = try state.tables.removeAll(socket: &state.socket) + ipv6.routes
            state.bindings.removeAllRules()
            var local = 0
            if removingLocal {
                let found = try state.local.found(socket: &state.socket)
                local = try state.local.remove(found.addresses.map(\.1) + found.routes.map(\.1), socket: &state.socket)
                local += try IPv6LocalAddress.removeMarked(socket: &state.socket)
                state.local.forgetInstalledRoutes()
            }
            logger.info("removed proxyarpd rules and routes", metadata: [
                "rules": "\(rules)", "routes": "\(routes)", "local": "\(local)",
            ])
            return (rules, routes, local)
        }
    }

    private func setLocal(_ vip: IPv4Address, _ local: Bool) throws(HostNetworkingError) {
        try withState { state throws(NetlinkError) in
            try state.local.set(vip, local: local, bindings: &state.bindings, socket: &state.socket, logger: logger)
        }
    }

    /// Runs `body` with the netlink socket, under the lock (IPv6 helpers in other files).
    func withSocket<T: Sendable>(_ body: (inout NetlinkSocket) throws(NetlinkError) -> T) throws(HostNetworkingError) -> T {
        try withState { state throws(NetlinkError) -> T in try body(&state.socket) }
    }

    /// Adds or removes the IPv6 VIP `vip/128` on `lo` (see ``IPv6LocalAddress``).
    func setIPv6Local(_ vip: IPv6Address, add: Bool) throws(HostNetworkingError) {
        try withState { state throws(NetlinkError) in
            let lo = try state.socket.link(named: "lo").index
            let tolerated = add ? [EEXIST] : [EADDRNOTAVAIL, ENOENT]
            _ = try state.socket.execute(IPv6LocalAddress.request(add: add, vip: vip, index: lo), tolerating: tolerated)
        }
    }

    /// Netlink requests (round trips) sent so far: what a bind costs, for tests and the bench.
    public var netlinkRequests: Int { state.withLock { $0.socket.requestsSent } }

    /// Runs `body` under the lock; its netlink error leaves as a host-networking error.
    private func withState<T: Sendable>(_ body: (inout State) throws(NetlinkError) -> T) throws(HostNetworkingError) -> T {
        do {
            return try state.withLock { state throws(NetlinkError) in try body(&state) }
        } catch {
            throw error.hostNetworkingError
        }
    }
}
