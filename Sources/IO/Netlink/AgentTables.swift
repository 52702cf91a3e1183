import CLinuxNet
import Glibc
import Logging
import ProxyARPCore

/// The agents' routing tables: `T(agent) = tableBase + ifindex(agent)` holds the agent's
/// connected routes and, when the main table's default route has its gateway inside one
/// of the agent's subnets, a default route through that gateway on the agent.
///
/// Every bind reads the agent's addresses and the main default gateway (two filtered
/// dumps) and rewrites `T(agent)` only when they changed since the last bind, deleting
/// routes of ours there that no longer match.
struct AgentTables {
    /// The inputs of an agent's table: its addresses and the main default gateway.
    private struct Inputs: Equatable {
        var interfaces: Set<IPv4Interface>
        var gateway: IPv4Address?
    }

    /// `T(agent) = tableBase + ifindex`.
    let tableBase: UInt32
    /// What each agent's table was last written from, by ifindex.
    private var written: [Int32: Inputs] = [:]

    init(tableBase: UInt32) {
        self.tableBase = tableBase
    }

    /// The tables considered ours: `tableBase ..< tableBase + NetlinkHost.tableSpan`.
    var ours: Range<UInt32> { tableBase..<(tableBase &+ NetlinkHost.tableSpan) }

    /// The routing table that holds `ifindex`'s routes.
    func table(forInterfaceIndex index: Int32) -> UInt32 { tableBase + UInt32(bitPattern: index) }

    /// Rewrites `link`'s table when the agent's addresses or the main default gateway
    /// differ from the last time, or the table was never written. Returns the table.
    @discardableResult
    mutating func refreshIfChanged(of link: LinkRecord, socket: inout NetlinkSocket, logger: Logger) throws(NetlinkError) -> UInt32 {
        let table = table(forInterfaceIndex: link.index)
        let interfaces = try socket.dump(RouteRequests.dumpIPv4Addresses(index: link.index))
            .compactMap(AddressRecord.init).filter { $0.index == link.index }.map(\.interface)
        let current = Inputs(interfaces: Set(interfaces), gateway: try Self.mainDefaultGateway(on: &socket))
        guard written[link.index] != current else { return table }
        try Self.write(link: link, interfaces: interfaces, gateway: current.gateway, in: table, socket: &socket, logger: logger)
        written[link.index] = current
        return table
    }

    /// Rewrites `link`'s table whatever was written before: the kernel flushed it when the
    /// adapter was deleted, so a re-created adapter with the same ifindex and addresses
    /// would otherwise look unchanged. Returns the table.
    @discardableResult
    mutating func rewrite(of link: LinkRecord, socket: inout NetlinkSocket, logger: Logger) throws(NetlinkError) -> UInt32 {
        written[link.index] = nil
        return try refreshIfChanged(of: link, socket: &socket, logger: logger)
    }

    /// Deletes every route of our protocol in our tables (only in `tables` when given) and
    /// forgets what was written there. Returns how many.
    mutating func removeAll(in tables: Set<UInt32>? = nil, socket: inout NetlinkSocket) throws(NetlinkError) -> Int {
        var routes = 0
        for (table, message) in try ourRoutes(socket: &socket) where tables?.contains(table) ?? true {
            let delete = NetlinkRequest(
                type: UInt16(RTM_DELROUTE), flags: 0, label: "RTM_DELROUTE table \(table)", echoing: message)
            if try socket.execute(delete, tolerating: [ESRCH, ENOENT]) == 0 { routes += 1 }
        }
        written = written.filter { index, _ in tables.map { !$0.contains(table(forInterfaceIndex: index)) } ?? false }
        return routes
    }

    /// The tables in our range that hold routes of our protocol (an earlier instance's too).
    func found(socket: inout NetlinkSocket) throws(NetlinkError) -> Set<UInt32> {
        Set(try ourRoutes(socket: &socket).map(\.table))
    }

    private func ourRoutes(socket: inout NetlinkSocket) throws(NetlinkError) -> [(table: UInt32, message: NetlinkMessage)] {
        var routes: [(table: UInt32, message: NetlinkMessage)] = []
        for message in try socket.dump(Self.routeDump(table: 0)) where message.type == UInt16(RTM_NEWROUTE) {
            guard let header = message.familyHeader(rtmsg.self), header.rtm_protocol == NetlinkHost.routeProtocol else { continue }
            let table = Self.table(of: header, message.attributes(afterHeaderOf: MemoryLayout<rtmsg>.size))
            if ours.contains(table) { routes.append((table, message)) }
        }
        return routes
    }

    /// Writes the agent's connected routes (and a default route, see the type comment)
    /// into `table` with `NLM_F_REPLACE`.
    private static func write(
        link: LinkRecord, interfaces: [IPv4Interface], gateway: IPv4Address?, in table: UInt32,
        socket: inout NetlinkSocket, logger: Logger
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
        if let gateway, let source = interfaces.first(where: { $0.subnet.contains(gateway) }) {
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
        try prune(table, keeping: wanted, socket: &socket, logger: logger)
    }

    /// Deletes our routes in `table` whose destination is not in `wanted`: a subnet the
    /// agent no longer has, or a default route whose gateway left the agent's subnets.
    private static func prune(
        _ table: UInt32, keeping wanted: Set<IPv4Subnet>, socket: inout NetlinkSocket, logger: Logger
    ) throws(NetlinkError) {
        var stale: [NetlinkMessage] = []
        for message in try socket.dump(routeDump(table: table)) where message.type == UInt16(RTM_NEWROUTE) {
            guard let header = message.familyHeader(rtmsg.self), header.rtm_protocol == NetlinkHost.routeProtocol else { continue }
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

    private static func routeRequest(type: UInt16, flags: UInt16, table: UInt32, destination: IPv4Subnet, label: String) -> NetlinkRequest {
        var request = NetlinkRequest(type: type, flags: flags, label: "RTM_NEWROUTE \(label) table \(table)")
        var header = rtmsg()
        header.rtm_family = UInt8(AF_INET)
        header.rtm_dst_len = UInt8(destination.prefixLength)
        header.rtm_table = UInt8(RT_TABLE_UNSPEC.rawValue)  // the real id is in RTA_TABLE
        header.rtm_protocol = NetlinkHost.routeProtocol
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
    private static func mainDefaultGateway(on socket: inout NetlinkSocket) throws(NetlinkError) -> IPv4Address? {
        for message in try socket.dump(routeDump(table: UInt32(RT_TABLE_MAIN.rawValue))) {
            guard message.type == UInt16(RTM_NEWROUTE), let header = message.familyHeader(rtmsg.self),
                header.rtm_dst_len == 0, header.rtm_type == UInt8(RTN_UNICAST)
            else { continue }
            let attributes = message.attributes(afterHeaderOf: MemoryLayout<rtmsg>.size)
            guard table(of: header, attributes) == UInt32(RT_TABLE_MAIN.rawValue) else { continue }
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
}
