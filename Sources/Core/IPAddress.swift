/// A VIP's address, whatever its family: the key of every VIP in the selection, the
/// activation machine, the actors, status, trace and the host side. The answer path keeps
/// its per-family structures (``AddressSet`` for IPv4, ``IPv6AddressSet`` for IPv6), so an
/// ARP frame never touches this type.
public enum IPAddress: Hashable, Sendable {
    /// An IPv4 VIP: found with ARP.
    case v4(IPv4Address)
    /// An IPv6 VIP: found with Neighbor Discovery.
    case v6(IPv6Address)

    /// Wraps an IPv4 address.
    public init(_ address: IPv4Address) { self = .v4(address) }
    /// Wraps an IPv6 address.
    public init(_ address: IPv6Address) { self = .v6(address) }

    /// The IPv4 address, if this is one.
    public var ipv4: IPv4Address? {
        if case .v4(let address) = self { return address }
        return nil
    }

    /// The IPv6 address, if this is one.
    public var ipv6: IPv6Address? {
        if case .v6(let address) = self { return address }
        return nil
    }

    /// The address family.
    public var family: AddressFamily {
        switch self {
        case .v4: .ipv4
        case .v6: .ipv6
        }
    }
}

/// IPv4 or IPv6: the `family` label of metrics and the column of status.
public enum AddressFamily: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// IPv4 (ARP).
    case ipv4
    /// IPv6 (Neighbor Discovery).
    case ipv6

    /// `ipv4` or `ipv6`.
    public var description: String { rawValue }
}

extension IPAddress: Comparable {
    /// IPv4 addresses first, each family in numeric order.
    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        switch (lhs, rhs) {
        case (.v4(let a), .v4(let b)): a < b
        case (.v6(let a), .v6(let b)): a < b
        case (.v4, .v6): true
        case (.v6, .v4): false
        }
    }
}

extension IPAddress: CustomStringConvertible {
    /// Dotted quad for IPv4, RFC 5952 for IPv6.
    public var description: String {
        switch self {
        case .v4(let address): address.description
        case .v6(let address): address.description
        }
    }
}

extension IPAddress: LosslessStringConvertible {
    /// Parses an IPv6 address when the text has a colon, else a dotted quad.
    public init?(_ text: String) {
        if text.contains(":") {
            guard let address = IPv6Address(text) else { return nil }
            self = .v6(address)
        } else {
            guard let address = IPv4Address(text) else { return nil }
            self = .v4(address)
        }
    }
}

extension IPAddress: CodableAsText {}
