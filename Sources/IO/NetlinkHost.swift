import CLinuxNet
import Glibc
import Logging
import ProxyARPCore
import Synchronization

/// The host-side effects of activation over rtnetlink and `/proc/sys` (ARCHITECTURE.md §2).
///
/// - `prepare(adapter:)` writes `arp_ignore=1`, `arp_announce=2` and
///   `ignore_routes_with_linkdown=1` under `/proc/sys/net/ipv4/conf/<dev>/`.
/// - A VIP is a `/32` on `lo` (`RTM_NEWADDR`/`RTM_DELADDR`).
/// - Its outbound path is a policy rule `from VIP/32 lookup T(agent)` at one priority for
///   all VIPs (``rulePriority``), where `T(agent) = tableBase + ifindex(agent)` holds the
///   agent's connected routes (refreshed with `NLM_F_REPLACE` at every bind) and, when
///   the main table's default route has its gateway inside one of the agent's subnets, a
///   default route through that gateway on the agent. Routes and rules carry the
///   protocol number ``routeProtocol`` so ``cleanup()`` finds exactly ours. Each bind also
///   deletes routes of ours in `T(agent)` that no longer match (an address the agent lost,
///   a default route whose gateway moved).
///
/// Every call is a few synchronous netlink round trips under a mutex (microseconds);
/// they run on the caller's thread. A bind dumps the agent's addresses, the main table
/// (for its default gateway) and `T(agent)`, so its cost grows with the main table; with
/// a very large main table and many VIPs failing over at once, cache the gateway per agent. With `namespacePath` the socket and the sysctl files
/// are opened inside that network namespace (see ``NetworkNamespace``).
public final class NetlinkHost: HostNetworking {
    /// The priority of every VIP rule (before `main` at 32766).
    public let rulePriority: UInt32
    /// `T(agent) = tableBase + ifindex`.
    public let tableBase: UInt32
    /// `rtm_protocol` / `FRA_PROTOCOL` of everything proxyarpd installs.
    public static let routeProtocol: UInt8 = 0x9a
    /// The tables ``cleanup()`` considers ours: `tableBase ..< tableBase + tableSpan`.
    public static let tableSpan: UInt32 = 1 << 20

    private let namespacePath: String?
    private let logger: Logger
    private let state: Mutex<State>

    private struct State: ~Copyable {
        var socket: NetlinkSocket
        /// VIP → table of the rule this process installed for it.
        var boundTables: [IPv4Address: UInt32] = [:]
    }

    /// Opens the netlink socket (inside the network namespace at `namespacePath`,
    /// e.g. `/var/run/netns/lab`, when given).
    public init(logger: Logger = Logger(label: "proxyarpd.netlink"), namespacePath: String? = nil,
                rulePriority: UInt32 = 1000, tableBase: UInt32 = 20000) throws(NetlinkError) {
        self.logger = logger
        self.namespacePath = namespacePath
        self.rulePriority = rulePriority
        self.tableBase = tableBase
        let fd = try NetworkNamespace.run(in: namespacePath) { () throws(NetlinkError) -> Int32 in
            try NetlinkSocket.openDescriptor(groups: 0, receiveBufferSize: nil)
        }
        state = Mutex(State(socket: NetlinkSocket(adopting: fd)))
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

    /// Adds `vip/32` to `lo`; an existing one is fine.
    public func addLocalAddressSynchronously(_ vip: IPv4Address) throws(NetlinkError) {
        try state.withLock { state throws(NetlinkError) in
            let lo = try Self.link(named: "lo", on: &state.socket)
            let request = Self.addressRequest(
                type: UInt16(RTM_NEWADDR), flags: CLN_NLM_F_CREATE | CLN_NLM_F_EXCL, vip: vip, index: lo.index)
            let code = try state.socket.execute(request, tolerating: [EEXIST])
            logger.debug("\(code == 0 ? "added" : "already had") \(vip)/32 on lo")
        }
    }

    /// Removes `vip/32` from `lo`; a missing one is fine.
    public func removeLocalAddressSynchronously(_ vip: IPv4Address) throws(NetlinkError) {
        try state.withLock { state throws(NetlinkError) in
            let lo = try Self.link(named: "lo", on: &state.socket)
            let request = Self.addressRequest(type: UInt16(RTM_DELADDR), flags: 0, vip: vip, index: lo.index)
            let code = try state.socket.execute(request, tolerating: [EADDRNOTAVAIL, ENOENT])
            logger.debug("\(code == 0 ? "removed" : "did not have") \(vip)/32 on lo")
        }
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

    /// Refreshes `T(agent)`, adds `from vip/32 lookup T(agent)`, then deletes the rule of
    /// `replacing` (and any other rule this process installed for `vip`).
    public func bindOutboundPathSynchronously(of vip: IPv4Address, to agent: AdapterName, replacing: AdapterName?) throws(NetlinkError) {
        try state.withLock { state throws(NetlinkError) in
            let link = try Self.link(named: agent.rawValue, on: &state.socket)
            let table = table(forInterfaceIndex: link.index)
            try refreshRoutes(of: link, in: table, on: &state.socket)

            // Make before break: the new rule first.
            let added = try state.socket.execute(
                ruleRequest(type: UInt16(RTM_NEWRULE), flags: CLN_NLM_F_CREATE | CLN_NLM_F_EXCL, vip: vip, table: table),
                tolerating: [EEXIST])
            var stale = Set<UInt32>()
            if let previous = state.boundTables[vip] { stale.insert(previous) }
            if let replacing, replacing != agent {
                // The old agent may be gone already; then the remembered table stands in.
                if let old = try? Self.link(named: replacing.rawValue, on: &state.socket) {
                    stale.insert(self.table(forInterfaceIndex: old.index))
                }
            }
            stale.remove(table)
            for old in stale.sorted() {
                try state.socket.execute(
                    ruleRequest(type: UInt16(RTM_DELRULE), flags: 0, vip: vip, table: old), tolerating: [ENOENT])
            }
            state.boundTables[vip] = table
            logger.debug("bound \(vip) to \(agent)", metadata: [
                "table": "\(table)", "rule": added == 0 ? "added" : "existed", "removed": "\(stale.sorted())",
            ])
        }
    }

    /// Deletes `from vip/32 lookup T(agent)`; a missing rule is fine.
    public func unbindOutboundPathSynchronously(of vip: IPv4Address, from agent: AdapterName) throws(NetlinkError) {
        try state.withLock { state throws(NetlinkError) in
            var tables = Set<UInt32>()
            if let link = try? Self.link(named: agent.rawValue, on: &state.socket) {
                tables.insert(table(forInterfaceIndex: link.index))
            } else if let remembered = state.boundTables[vip] {
                tables.insert(remembered)
            }
            for table in tables {
                try state.socket.execute(
                    ruleRequest(type: UInt16(RTM_DELRULE), flags: 0, vip: vip, table: table), tolerating: [ENOENT])
                if state.boundTables[vip] == table { state.boundTables[vip] = nil }
            }
            logger.debug("unbound \(vip) from \(agent)", metadata: ["tables": "\(tables.sorted())"])
        }
    }

    private func ruleRequest(type: UInt16, flags: UInt16, vip: IPv4Address, table: UInt32) -> NetlinkRequest {
        let verb = type == UInt16(RTM_NEWRULE) ? "RTM_NEWRULE" : "RTM_DELRULE"
        var request = NetlinkRequest(
            type: type, flags: flags, label: "\(verb) from \(vip)/32 lookup \(table) pref \(rulePriority)")
        var header = fib_rule_hdr()
        header.family = UInt8(AF_INET)
        header.src_len = 32
        header.action = UInt8(FR_ACT_TO_TBL)
        request.append(header: header)
        request.appendAttribute(Int(FRA_SRC), ipv4: vip)
        request.appendAttribute(Int(FRA_PRIORITY), uint32: rulePriority)
        request.appendAttribute(Int(FRA_TABLE), uint32: table)
        if type == UInt16(RTM_NEWRULE) {
            request.appendAttribute(Int(CLN_FRA_PROTOCOL), uint8: Self.routeProtocol)
        }
        return request
    }

    /// Writes the agent's connected routes (and a default route, see the type comment)
    /// into `table` with `NLM_F_REPLACE`.
    private func refreshRoutes(of link: LinkRecord, in table: UInt32, on socket: inout NetlinkSocket) throws(NetlinkError) {
        let interfaces = try socket.dump(RouteRequests.dumpIPv4Addresses(index: link.index))
            .compactMap(AddressRecord.init).filter { $0.index == link.index }
        if interfaces.isEmpty {
            logger.warning("\(link.name) has no IPv4 address: table \(table) stays empty, VIP traffic follows the main table")
        }
        var wanted = Set(interfaces.map(\.interface.subnet))
        for record in interfaces {
            let interface = record.interface
            var request = routeRequest(
                type: UInt16(RTM_NEWROUTE), flags: CLN_NLM_F_CREATE | CLN_NLM_F_REPLACE, table: table,
                destination: interface.subnet, label: "\(interface.subnet) dev \(link.name) src \(interface.address)")
            request.appendAttribute(Int(RTA_OIF.rawValue), uint32: UInt32(bitPattern: link.index))
            request.appendAttribute(Int(RTA_PREFSRC.rawValue), ipv4: interface.address)
            try socket.execute(request)
        }
        if let gateway = try mainDefaultGateway(on: &socket),
            let source = interfaces.first(where: { $0.interface.subnet.contains(gateway) })
        {
            var request = routeRequest(
                type: UInt16(RTM_NEWROUTE), flags: CLN_NLM_F_CREATE | CLN_NLM_F_REPLACE, table: table,
                destination: IPv4Subnet(address: .any, prefixLength: 0)!,
                label: "default via \(gateway) dev \(link.name)")
            request.appendAttribute(Int(RTA_GATEWAY.rawValue), ipv4: gateway)
            request.appendAttribute(Int(RTA_OIF.rawValue), uint32: UInt32(bitPattern: link.index))
            request.appendAttribute(Int(RTA_PREFSRC.rawValue), ipv4: source.interface.address)
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

    /// Removes every rule at ``rulePriority`` that points into our tables or carries our
    /// protocol, and every route of our protocol in our tables. For shutdown.
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
                guard attributes.uint32(Int(FRA_PRIORITY)) == rulePriority,
                    ours.contains(table) || attributes.uint8(Int(CLN_FRA_PROTOCOL)) == Self.routeProtocol
                else { continue }
                let delete = NetlinkRequest(
                    type: UInt16(RTM_DELRULE), flags: 0, label: "RTM_DELRULE pref \(rulePriority) table \(table)",
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
            state.boundTables = [:]
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
