import CLinuxNet
import Glibc
import Logging
import ProxyARPCore

/// The IPv6 side of the outbound path: per IPv6 VIP, one policy rule `from VIP/128 lookup
/// T(agent)` (IPv6 has its own rule list, so the IPv4 section scheme, which exists for the
/// reverse-path check of ARP requests, does not apply: every IPv6 VIP is a block of one),
/// and in each agent table the agent's global IPv6 prefixes as routes out of the agent.
/// The agent's solicited-node memberships are kept beside (``SolicitedNodeMemberships``).
///
/// Everything carries ``NetlinkHost/routeProtocol``, so ``removeAll(tables:socket:)`` finds
/// exactly ours.
struct IPv6OutboundPaths {
    /// The priority of every IPv6 VIP rule.
    let rulePriority: UInt32
    /// The table each bound VIP's rule points into.
    private(set) var tables: [IPv6Address: UInt32] = [:]
    /// The interface each VIP's solicited-node group is joined on.
    private(set) var groups: [IPv6Address: UInt32] = [:]
    /// The prefixes each agent's table was last written from, by ifindex.
    private var written: [Int32: Set<IPv6Prefix>] = [:]

    init(rulePriority: UInt32) {
        self.rulePriority = rulePriority
    }

    /// Writes the IPv6 routes of `link`'s `table` when its prefixes changed since the last
    /// time (or were never written), pruning ours that no longer match.
    mutating func refreshRoutes(of link: LinkRecord, table: UInt32, force: Bool = false, socket: inout NetlinkSocket, logger: Logger) throws(NetlinkError) {
        let prefixes = Set(try socket.ipv6Prefixes(ofInterfaceIndex: link.index).map(\.network))
        guard force || written[link.index] != prefixes else { return }
        for prefix in prefixes.sorted(by: { ($0.address, $0.length) < ($1.address, $1.length) }) {
            var request = Self.routeRequest(
                type: UInt16(RTM_NEWROUTE), flags: CLN_NLM_F_CREATE | CLN_NLM_F_REPLACE, table: table, destination: prefix,
                label: "\(prefix) dev \(link.name)")
            request.appendAttribute(Int(RTA_OIF.rawValue), uint32: UInt32(bitPattern: link.index))
            try socket.execute(request)
        }
        for (routeTable, destination, message) in try Self.ourRoutes(socket: &socket)
        where routeTable == table && !prefixes.contains(destination) {
            _ = try socket.execute(
                NetlinkRequest(type: UInt16(RTM_DELROUTE), flags: 0, label: "RTM_DELROUTE stale inet6 route in table \(table)", echoing: message),
                tolerating: [ESRCH, ENOENT])
        }
        if prefixes.isEmpty {
            logger.warning("\(link.name) has no global IPv6 address: its IPv6 VIPs' traffic follows the main table")
        }
        written[link.index] = prefixes
    }

    /// Points `vip`'s rule at `table`: the new rule is added before the old one (of this
    /// process, or `stale`, a table an earlier binding used) is deleted.
    mutating func bind(_ vip: IPv6Address, to table: UInt32, stale: UInt32?, socket: inout NetlinkSocket) throws(NetlinkError) {
        let old = tables[vip] ?? stale
        guard old != table || tables[vip] == nil else { return }
        try socket.execute(ruleRequest(add: true, vip: vip, table: table), tolerating: [EEXIST])
        tables[vip] = table
        if let old, old != table {
            try socket.execute(ruleRequest(add: false, vip: vip, table: old), tolerating: [ENOENT])
        }
    }

    /// Deletes `vip`'s rule (the one into `fallback` when this process did not bind it).
    mutating func unbind(_ vip: IPv6Address, fallback: UInt32?, socket: inout NetlinkSocket) throws(NetlinkError) {
        guard let table = tables.removeValue(forKey: vip) ?? fallback else { return }
        try socket.execute(ruleRequest(add: false, vip: vip, table: table), tolerating: [ENOENT])
    }

    /// Records that `vip`'s group is joined on `index` (nil: joined nowhere); returns the
    /// interface it was joined on before.
    mutating func setGroup(of vip: IPv6Address, to index: UInt32?) -> UInt32? {
        let before = groups[vip]
        groups[vip] = index
        return before
    }

    /// Deletes every IPv6 rule pointing into `tables` or carrying our protocol, and every
    /// IPv6 route of ours in `tables`; forgets the bindings (not the memberships). Returns
    /// how many rules and routes.
    mutating func removeAll(tables ours: Range<UInt32>, socket: inout NetlinkSocket) throws(NetlinkError) -> (rules: Int, routes: Int) {
        var rules = 0
        var request = NetlinkRequest(type: UInt16(RTM_GETRULE), flags: 0, label: "RTM_GETRULE dump inet6")
        var dumpHeader = fib_rule_hdr()
        dumpHeader.family = UInt8(AF_INET6)
        request.append(header: dumpHeader)
        for message in try socket.dump(request) where message.type == UInt16(RTM_NEWRULE) {
            guard let header = message.familyHeader(fib_rule_hdr.self), Int32(header.family) == AF_INET6 else { continue }
            let attributes = message.attributes(afterHeaderOf: MemoryLayout<fib_rule_hdr>.size)
            let table = attributes.uint32(Int(FRA_TABLE)) ?? UInt32(header.table)
            guard ours.contains(table) || attributes.uint8(Int(CLN_FRA_PROTOCOL)) == NetlinkHost.routeProtocol else { continue }
            let delete = NetlinkRequest(type: UInt16(RTM_DELRULE), flags: 0, label: "RTM_DELRULE found inet6 rule", echoing: message)
            if try socket.execute(delete, tolerating: [ENOENT]) == 0 { rules += 1 }
        }
        var routes = 0
        for (table, _, message) in try Self.ourRoutes(socket: &socket) where ours.contains(table) {
            let delete = NetlinkRequest(type: UInt16(RTM_DELROUTE), flags: 0, label: "RTM_DELROUTE inet6 table \(table)", echoing: message)
            if try socket.execute(delete, tolerating: [ESRCH, ENOENT]) == 0 { routes += 1 }
        }
        tables = [:]
        written = [:]
        return (rules, routes)
    }

    /// `RTM_NEWRULE` / `RTM_DELRULE` `from vip/128 lookup table`.
    func ruleRequest(add: Bool, vip: IPv6Address, table: UInt32) -> NetlinkRequest {
        let type = UInt16(add ? RTM_NEWRULE : RTM_DELRULE)
        var request = NetlinkRequest(
            type: type, flags: add ? CLN_NLM_F_CREATE | CLN_NLM_F_EXCL : 0,
            label: "\(add ? "RTM_NEWRULE" : "RTM_DELRULE") from \(vip)/128 lookup \(table) pref \(rulePriority)")
        var header = fib_rule_hdr()
        header.family = UInt8(AF_INET6)
        header.src_len = 128
        header.action = UInt8(FR_ACT_TO_TBL)
        request.append(header: header)
        request.appendAttribute(Int(FRA_SRC), IPv6LocalAddress.bytes(vip))
        request.appendAttribute(Int(FRA_PRIORITY), uint32: rulePriority)
        request.appendAttribute(Int(FRA_TABLE), uint32: table)
        if add { request.appendAttribute(Int(CLN_FRA_PROTOCOL), uint8: NetlinkHost.routeProtocol) }
        return request
    }

    private static func routeRequest(type: UInt16, flags: UInt16, table: UInt32, destination: IPv6Prefix, label: String) -> NetlinkRequest {
        var request = NetlinkRequest(type: type, flags: flags, label: "RTM_NEWROUTE \(label) table \(table)")
        var header = rtmsg()
        header.rtm_family = UInt8(AF_INET6)
        header.rtm_dst_len = UInt8(destination.length)
        header.rtm_table = UInt8(RT_TABLE_UNSPEC.rawValue)
        header.rtm_protocol = NetlinkHost.routeProtocol
        header.rtm_scope = UInt8(RT_SCOPE_UNIVERSE.rawValue)
        header.rtm_type = UInt8(RTN_UNICAST)
        request.append(header: header)
        request.appendAttribute(Int(RTA_TABLE.rawValue), uint32: table)
        if destination.length > 0 { request.appendAttribute(Int(RTA_DST.rawValue), IPv6LocalAddress.bytes(destination.address)) }
        return request
    }

    /// Every IPv6 route of our protocol: its table, destination and the message that deletes it.
    private static func ourRoutes(socket: inout NetlinkSocket) throws(NetlinkError) -> [(UInt32, IPv6Prefix, NetlinkMessage)] {
        var request = NetlinkRequest(type: UInt16(RTM_GETROUTE), flags: 0, label: "RTM_GETROUTE dump inet6")
        var header = rtmsg()
        header.rtm_family = UInt8(AF_INET6)
        request.append(header: header)
        var routes: [(UInt32, IPv6Prefix, NetlinkMessage)] = []
        for message in try socket.dump(request) where message.type == UInt16(RTM_NEWROUTE) {
            guard let header = message.familyHeader(rtmsg.self), Int32(header.rtm_family) == AF_INET6,
                header.rtm_protocol == NetlinkHost.routeProtocol
            else { continue }
            let attributes = message.attributes(afterHeaderOf: MemoryLayout<rtmsg>.size)
            let table = attributes.uint32(Int(RTA_TABLE.rawValue)) ?? UInt32(header.rtm_table)
            guard let destination = IPv6Prefix(
                address: attributes.ipv6(Int(RTA_DST.rawValue)) ?? .unspecified, length: Int(header.rtm_dst_len))
            else { continue }
            routes.append((table, destination, message))
        }
        return routes
    }
}
