import CLinuxNet
import Glibc
import ProxyARPCore

/// An IPv6 VIP as a local address of the host: `VIP/128` on `lo` with `IFA_F_NODAD` (no
/// Duplicate Address Detection: the address is announced on the agent by proxyarpd, not
/// by the kernel on `lo`), marked with proxyarpd's `IFA_PROTO` like the IPv4 `/32`s.
enum IPv6LocalAddress {
    /// The 16 bytes of `address` in wire order.
    static func bytes(_ address: IPv6Address) -> [UInt8] {
        (0..<16).map { address.octet($0) }
    }

    /// `RTM_NEWADDR` (`add` true) or `RTM_DELADDR` of `vip/128` on the interface `index`.
    static func request(add: Bool, vip: IPv6Address, index: Int32) -> NetlinkRequest {
        let type = UInt16(add ? RTM_NEWADDR : RTM_DELADDR)
        var request = NetlinkRequest(
            type: type, flags: add ? CLN_NLM_F_CREATE | CLN_NLM_F_EXCL : 0,
            label: "\(add ? "RTM_NEWADDR" : "RTM_DELADDR") \(vip)/128 dev lo")
        var header = ifaddrmsg()
        header.ifa_family = UInt8(AF_INET6)
        header.ifa_prefixlen = 128
        header.ifa_scope = UInt8(RT_SCOPE_UNIVERSE.rawValue)
        header.ifa_index = UInt32(bitPattern: index)
        if add { header.ifa_flags = UInt8(IFA_F_NODAD) }
        request.append(header: header)
        request.appendAttribute(Int(IFA_LOCAL), bytes(vip))
        request.appendAttribute(Int(IFA_ADDRESS), bytes(vip))
        if add {
            request.appendAttribute(Int(IFA_FLAGS), uint32: UInt32(IFA_F_NODAD))
            request.appendAttribute(Int(IFA_PROTO), uint8: NetlinkHost.routeProtocol)
        }
        return request
    }
}

extension NetlinkHost {
    /// Makes the IPv6 VIP `vip` local: `vip/128` on `lo`, without DAD. Already there is fine.
    public func addLocalAddress(_ vip: IPv6Address) throws(HostNetworkingError) {
        try setIPv6Local(vip, add: true)
    }

    /// Removes `vip/128` from `lo`; not there is fine.
    public func removeLocalAddress(_ vip: IPv6Address) throws(HostNetworkingError) {
        try setIPv6Local(vip, add: false)
    }
}

extension IPv6LocalAddress {
    /// Deletes every IPv6 `/128` on `lo` that carries proxyarpd's `IFA_PROTO`, whoever
    /// added it (shutdown with `remove_vips_on_exit`). Returns how many were there.
    static func removeMarked(socket: inout NetlinkSocket) throws(NetlinkError) -> Int {
        let lo = try socket.link(named: "lo").index
        var request = NetlinkRequest(type: UInt16(RTM_GETADDR), flags: 0, label: "RTM_GETADDR dump inet6 lo")
        var header = ifaddrmsg()
        header.ifa_family = UInt8(AF_INET6)
        header.ifa_index = UInt32(bitPattern: lo)
        request.append(header: header)
        var removed = 0
        for message in try socket.dump(request) where message.type == UInt16(RTM_NEWADDR) {
            guard let found = message.familyHeader(ifaddrmsg.self), Int32(found.ifa_family) == AF_INET6,
                Int32(bitPattern: found.ifa_index) == lo, found.ifa_prefixlen == 128,
                message.attributes(afterHeaderOf: MemoryLayout<ifaddrmsg>.size).uint8(Int(IFA_PROTO)) == NetlinkHost.routeProtocol
            else { continue }
            let delete = NetlinkRequest(type: UInt16(RTM_DELADDR), flags: 0, label: "RTM_DELADDR found inet6 address on lo", echoing: message)
            if try socket.execute(delete, tolerating: [EADDRNOTAVAIL, ENOENT]) == 0 { removed += 1 }
        }
        return removed
    }
}
