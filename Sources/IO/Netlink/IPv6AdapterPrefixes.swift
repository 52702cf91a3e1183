import CLinuxNet
import Glibc
import ProxyARPCore

extension NetlinkHost {
    /// The global IPv6 prefixes of `adapter` as the kernel holds them (`RTM_GETADDR`,
    /// `AF_INET6`): link-local and tentative addresses left out. The input of the
    /// same-prefix preference for IPv6 VIPs and of the IPv6 routes of its agent table.
    public func ipv6Prefixes(of adapter: AdapterName) throws(HostNetworkingError) -> [IPv6Prefix] {
        try withSocket { socket throws(NetlinkError) -> [IPv6Prefix] in
            let index = try socket.link(named: adapter.rawValue).index
            return try socket.ipv6Prefixes(ofInterfaceIndex: index)
        }
    }
}

extension NetlinkSocket {
    /// The global, non-tentative IPv6 prefixes of the interface `index`, in the kernel's order.
    mutating func ipv6Prefixes(ofInterfaceIndex index: Int32) throws(NetlinkError) -> [IPv6Prefix] {
        var request = NetlinkRequest(type: UInt16(RTM_GETADDR), flags: 0, label: "RTM_GETADDR dump inet6")
        var header = ifaddrmsg()
        header.ifa_family = UInt8(AF_INET6)
        header.ifa_index = UInt32(bitPattern: index)
        request.append(header: header)
        var prefixes: [IPv6Prefix] = []
        for message in try dump(request) where message.type == UInt16(RTM_NEWADDR) {
            guard let header = message.familyHeader(ifaddrmsg.self), Int32(header.ifa_family) == AF_INET6,
                Int32(bitPattern: header.ifa_index) == index
            else { continue }
            let attributes = message.attributes(afterHeaderOf: MemoryLayout<ifaddrmsg>.size)
            guard let address = attributes.ipv6(Int(IFA_LOCAL)) ?? attributes.ipv6(Int(IFA_ADDRESS)) else { continue }
            let flags = attributes.uint32(Int(IFA_FLAGS)) ?? UInt32(header.ifa_flags)
            guard flags & UInt32(IFA_F_TENTATIVE | IFA_F_DADFAILED) == 0 else { continue }
            guard !address.isLinkLocal, !address.isMulticast, !address.isLoopback,
                let prefix = IPv6Prefix(address: address, length: Int(header.ifa_prefixlen))
            else { continue }
            prefixes.append(prefix)
        }
        return prefixes
    }
}

extension NetlinkAttributes {
    /// A 16-byte attribute as an IPv6 address.
    func ipv6(_ type: Int) -> IPv6Address? {
        guard let bytes = self[type], bytes.count == 16 else { return nil }
        return Array(bytes).withUnsafeBytes { raw in
            IPv6Address(
                high: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                low: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        }
    }
}
