import CLinuxNet
import Glibc
import ProxyARPCore

/// A link as read from an `RTM_NEWLINK` message.
struct LinkRecord: Sendable, Equatable {
    var index: Int32
    var name: String
    var mac: MACAddress
    /// `ifi_flags` (`IFF_UP`, `IFF_RUNNING`, `IFF_LOWER_UP`, ...).
    var flags: UInt32

    var adminUp: Bool { flags & UInt32(IFF_UP) != 0 }
    /// Carrier is `IFF_RUNNING`: the kernel sets it when operstate is UP (or UNKNOWN for
    /// drivers without operstate, like `lo`), so it is false on carrier loss, on admin
    /// down, and while 802.1X/dormant. `IFF_LOWER_UP` alone would stay true for a lower
    /// link that is up under a dormant interface.
    var carrier: Bool { flags & UInt32(IFF_RUNNING) != 0 }

    init?(_ message: NetlinkMessage) {
        guard message.type == UInt16(RTM_NEWLINK) || message.type == UInt16(RTM_DELLINK),
            let header = message.familyHeader(ifinfomsg.self)
        else { return nil }
        let attributes = message.attributes(afterHeaderOf: MemoryLayout<ifinfomsg>.size)
        guard let name = attributes.string(Int(IFLA_IFNAME)) else { return nil }
        self.index = header.ifi_index
        self.name = name
        self.mac = attributes.mac(Int(IFLA_ADDRESS)) ?? .zero
        self.flags = header.ifi_flags
    }
}

/// An IPv4 address as read from an `RTM_NEWADDR`/`RTM_DELADDR` message.
struct AddressRecord: Sendable, Equatable {
    var index: Int32
    var interface: IPv4Interface
    var secondary: Bool

    init?(_ message: NetlinkMessage) {
        guard message.type == UInt16(RTM_NEWADDR) || message.type == UInt16(RTM_DELADDR),
            let header = message.familyHeader(ifaddrmsg.self), Int32(header.ifa_family) == AF_INET
        else { return nil }
        let attributes = message.attributes(afterHeaderOf: MemoryLayout<ifaddrmsg>.size)
        // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer on point-to-point links.
        guard let address = attributes.ipv4(Int(IFA_LOCAL)) ?? attributes.ipv4(Int(IFA_ADDRESS)),
            let interface = IPv4Interface(address: address, prefixLength: Int(header.ifa_prefixlen))
        else { return nil }
        self.index = Int32(bitPattern: header.ifa_index)
        self.interface = interface
        let flags = attributes.uint32(Int(IFA_FLAGS)) ?? UInt32(header.ifa_flags)
        self.secondary = flags & UInt32(IFA_F_SECONDARY) != 0
    }
}

/// An IPv6 address as read from an `RTM_NEWADDR` / `RTM_DELADDR` message.
struct IPv6AddressRecord: Sendable, Equatable {
    var index: Int32
    var prefix: IPv6Prefix
    /// Global (not link-local, multicast or loopback) and not tentative or DAD-failed.
    var usable: Bool

    init?(_ message: NetlinkMessage) {
        guard message.type == UInt16(RTM_NEWADDR) || message.type == UInt16(RTM_DELADDR),
            let header = message.familyHeader(ifaddrmsg.self), Int32(header.ifa_family) == AF_INET6
        else { return nil }
        let attributes = message.attributes(afterHeaderOf: MemoryLayout<ifaddrmsg>.size)
        guard let address = attributes.ipv6(Int(IFA_LOCAL)) ?? attributes.ipv6(Int(IFA_ADDRESS)),
            let prefix = IPv6Prefix(address: address, length: Int(header.ifa_prefixlen))
        else { return nil }
        self.index = Int32(bitPattern: header.ifa_index)
        self.prefix = prefix
        let flags = attributes.uint32(Int(IFA_FLAGS)) ?? UInt32(header.ifa_flags)
        self.usable = flags & UInt32(IFA_F_TENTATIVE | IFA_F_DADFAILED) == 0
            && !address.isLinkLocal && !address.isMulticast && !address.isLoopback
    }
}

/// The requests both the monitor and the host send.
enum RouteRequests {
    /// Dump of every link.
    static func dumpLinks() -> NetlinkRequest {
        var request = NetlinkRequest(type: UInt16(RTM_GETLINK), flags: 0, label: "RTM_GETLINK dump")
        var header = ifinfomsg()
        header.ifi_family = UInt8(AF_UNSPEC)
        request.append(header: header)
        return request
    }

    /// One link by name (answered by an `RTM_NEWLINK`, or `ENODEV`).
    static func getLink(named name: String) -> NetlinkRequest {
        var request = NetlinkRequest(type: UInt16(RTM_GETLINK), flags: 0, label: "RTM_GETLINK \(name)")
        var header = ifinfomsg()
        header.ifi_family = UInt8(AF_UNSPEC)
        request.append(header: header)
        request.appendAttribute(Int(IFLA_IFNAME), string: name)
        return request
    }

    /// Dump of the IPv4 addresses, of one interface when `index` is given (the kernel
    /// filters with strict checking; callers filter again for older kernels).
    static func dumpIPv4Addresses(index: Int32 = 0) -> NetlinkRequest {
        var request = NetlinkRequest(type: UInt16(RTM_GETADDR), flags: 0, label: "RTM_GETADDR dump")
        var header = ifaddrmsg()
        header.ifa_family = UInt8(AF_INET)
        header.ifa_index = UInt32(bitPattern: index)
        request.append(header: header)
        return request
    }

    /// Dump of every IPv6 address.
    static func dumpIPv6Addresses() -> NetlinkRequest {
        var request = NetlinkRequest(type: UInt16(RTM_GETADDR), flags: 0, label: "RTM_GETADDR dump inet6")
        var header = ifaddrmsg()
        header.ifa_family = UInt8(AF_INET6)
        request.append(header: header)
        return request
    }
}
