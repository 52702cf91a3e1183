import CLinuxNet
import Glibc
import Logging
import ProxyARPCore
import ProxyARPStateMachines

/// Makes VIPs local addresses of the host. With blocks of one address (prefix length
/// 32) a VIP is a `/32` on `lo` (`RTM_NEWADDR`/`RTM_DELADDR`); with larger blocks it is
/// covered by `local` routes on `lo` in the local table that cover exactly the block's
/// local VIPs (the kernel inserts addresses in a list, routes in a trie: 100,000 `/32`
/// addresses took 2 min 50 s of kernel time here). Which VIPs are local in block mode is
/// held by ``BlockBindings``; this value holds what is installed.
///
/// Both carry proxyarpd's mark so that a later instance finds them (``found(socket:)``):
/// the local routes route protocol 154, the `/32` addresses `IFA_PROTO` 154 (Linux 6.1
/// and later keep and report it in `RTM_GETADDR` dumps; the iproute2 6.1 installed here
/// can neither set nor show it, newer ones show `proto`). Older kernels ignore the
/// attribute: the addresses are then unmarked and a restart cannot tell them from an
/// operator's, so it leaves them.
struct LocalAddresses {
    /// The block prefix length (32: one address per VIP).
    let blockPrefixLength: Int
    /// The local routes installed per block (blocks larger than one address only).
    private var installedRoutes: [IPv4Address: Set<IPv4Subnet>] = [:]
    /// The index of `lo`, once asked.
    private var loopbackIndex: Int32?

    init(blockPrefixLength: Int) {
        self.blockPrefixLength = blockPrefixLength
    }

    /// Makes `vip` local (`local` true) or no longer local; already so is fine.
    mutating func set(
        _ vip: IPv4Address, local: Bool, bindings: inout BlockBindings, socket: inout NetlinkSocket, logger: Logger
    ) throws(NetlinkError) {
        let lo = try loopback(&socket)
        if blockPrefixLength < 32 {
            bindings.setLocal(vip, local)
            try syncRoutes(inBlockOf: vip, loopback: lo, bindings: bindings, socket: &socket)
            return
        }
        if local {
            let request = Self.addressRequest(
                type: UInt16(RTM_NEWADDR), flags: CLN_NLM_F_CREATE | CLN_NLM_F_EXCL, vip: vip, index: lo)
            let code = try socket.execute(request, tolerating: [EEXIST])
            logger.debug("\(code == 0 ? "added" : "already had") \(vip)/32 on lo")
        } else {
            let request = Self.addressRequest(type: UInt16(RTM_DELADDR), flags: 0, vip: vip, index: lo)
            let code = try socket.execute(request, tolerating: [EADDRNOTAVAIL, ENOENT])
            logger.debug("\(code == 0 ? "removed" : "did not have") \(vip)/32 on lo")
        }
    }

    /// The marked `/32` addresses on `lo` and the marked `local` routes in the local table,
    /// whoever installed them, with the messages that delete them.
    mutating func found(
        socket: inout NetlinkSocket
    ) throws(NetlinkError) -> (addresses: [(IPv4Address, NetlinkMessage)], routes: [(IPv4Subnet, NetlinkMessage)]) {
        let lo = try loopback(&socket)
        var addresses: [(IPv4Address, NetlinkMessage)] = []
        for message in try socket.dump(RouteRequests.dumpIPv4Addresses(index: lo)) {
            guard let record = AddressRecord(message), record.index == lo, record.interface.subnet.prefixLength == 32,
                message.attributes(afterHeaderOf: MemoryLayout<ifaddrmsg>.size).uint8(Int(IFA_PROTO))
                    == NetlinkHost.routeProtocol
            else { continue }
            addresses.append((record.interface.address, message))
        }
        var request = NetlinkRequest(type: UInt16(RTM_GETROUTE), flags: 0, label: "RTM_GETROUTE dump table local")
        var header = rtmsg()
        header.rtm_family = UInt8(AF_INET)
        request.append(header: header)
        request.appendAttribute(Int(RTA_TABLE.rawValue), uint32: UInt32(RT_TABLE_LOCAL.rawValue))
        var routes: [(IPv4Subnet, NetlinkMessage)] = []
        for message in try socket.dump(request) where message.type == UInt16(RTM_NEWROUTE) {
            guard let route = message.familyHeader(rtmsg.self), route.rtm_protocol == NetlinkHost.routeProtocol,
                route.rtm_type == UInt8(RTN_LOCAL)
            else { continue }
            let attributes = message.attributes(afterHeaderOf: MemoryLayout<rtmsg>.size)
            guard (attributes.uint32(Int(RTA_TABLE.rawValue)) ?? UInt32(route.rtm_table)) == UInt32(RT_TABLE_LOCAL.rawValue),
                let subnet = IPv4Subnet(address: attributes.ipv4(Int(RTA_DST.rawValue)) ?? .any, prefixLength: Int(route.rtm_dst_len))
            else { continue }
            routes.append((subnet, message))
        }
        return (addresses, routes)
    }

    /// Deletes dumped addresses or routes (`RTM_DELADDR` or `RTM_DELROUTE` echoing each).
    /// Returns how many were there.
    mutating func remove(_ messages: [NetlinkMessage], socket: inout NetlinkSocket) throws(NetlinkError) -> Int {
        var removed = 0
        for message in messages {
            let isAddress = message.type == UInt16(RTM_NEWADDR)
            let delete = NetlinkRequest(
                type: UInt16(isAddress ? RTM_DELADDR : RTM_DELROUTE), flags: 0,
                label: isAddress ? "RTM_DELADDR found address on lo" : "RTM_DELROUTE found local route", echoing: message)
            if try socket.execute(delete, tolerating: [EADDRNOTAVAIL, ENOENT, ESRCH]) == 0 { removed += 1 }
        }
        return removed
    }

    /// Forgets the local routes installed (after ``remove(_:socket:)`` took them all).
    mutating func forgetInstalledRoutes() {
        installedRoutes = [:]
    }

    /// Takes over local routes an earlier instance left (block mode): their VIPs are local
    /// in `bindings`, and the routes are known as installed, so later changes of their
    /// blocks replace them.
    mutating func adopt(routes: [IPv4Subnet], bindings: inout BlockBindings) {
        for route in routes {
            for vip in route.addresses { bindings.setLocal(vip, true) }
            installedRoutes[bindings.block(of: route.network).network, default: []].insert(route)
        }
    }

    /// Block mode, before a found route that also made unconfigured VIPs local is deleted:
    /// its configured VIPs (`keeping`) stay local by routes that cover exactly them, added
    /// first (make before break).
    mutating func replace(
        _ route: IPv4Subnet, keeping: [IPv4Address], bindings: inout BlockBindings, socket: inout NetlinkSocket
    ) throws(NetlinkError) {
        guard blockPrefixLength < 32, !keeping.isEmpty else { return }
        let lo = try loopback(&socket)
        for vip in keeping { bindings.setLocal(vip, true) }
        try syncRoutes(inBlockOf: route.network, loopback: lo, bindings: bindings, socket: &socket)
    }

    private mutating func loopback(_ socket: inout NetlinkSocket) throws(NetlinkError) -> Int32 {
        if let loopbackIndex { return loopbackIndex }
        let index = try socket.link(named: "lo").index
        loopbackIndex = index
        return index
    }

    /// Adds the local routes `vip`'s block now needs, then deletes those it no longer does.
    private mutating func syncRoutes(
        inBlockOf vip: IPv4Address, loopback: Int32, bindings: borrowing BlockBindings, socket: inout NetlinkSocket
    ) throws(NetlinkError) {
        let key = bindings.block(of: vip).network
        let wanted = bindings.localRoutes(inBlockOf: vip)
        let installed = installedRoutes[key] ?? []
        for subnet in wanted.subtracting(installed).sorted(by: { $0.network < $1.network }) {
            try socket.execute(Self.localRouteRequest(type: UInt16(RTM_NEWROUTE), subnet: subnet, loopback: loopback))
        }
        for subnet in installed.subtracting(wanted).sorted(by: { $0.network < $1.network }) {
            try socket.execute(
                Self.localRouteRequest(type: UInt16(RTM_DELROUTE), subnet: subnet, loopback: loopback), tolerating: [ESRCH, ENOENT])
        }
        installedRoutes[key] = wanted.isEmpty ? nil : wanted
    }

    /// `local SUBNET dev lo table local proto 154 scope host`.
    private static func localRouteRequest(type: UInt16, subnet: IPv4Subnet, loopback: Int32) -> NetlinkRequest {
        let verb = type == UInt16(RTM_NEWROUTE) ? "RTM_NEWROUTE" : "RTM_DELROUTE"
        var request = NetlinkRequest(
            type: type, flags: type == UInt16(RTM_NEWROUTE) ? CLN_NLM_F_CREATE | CLN_NLM_F_REPLACE : 0,
            label: "\(verb) local \(subnet) dev lo table local")
        var header = rtmsg()
        header.rtm_family = UInt8(AF_INET)
        header.rtm_dst_len = UInt8(subnet.prefixLength)
        header.rtm_table = UInt8(RT_TABLE_LOCAL.rawValue)
        header.rtm_protocol = NetlinkHost.routeProtocol
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
        if type == UInt16(RTM_NEWADDR) {
            request.appendAttribute(Int(IFA_PROTO), uint8: NetlinkHost.routeProtocol)
        }
        return request
    }
}
