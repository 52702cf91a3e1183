/// An IPv4 network: a base address and a prefix length, e.g. `198.18.0.0/24`.
///
/// The base is always masked, so `198.18.0.7/24` and `198.18.0.0/24` are equal.
public struct IPv4Subnet: Hashable, Sendable {
    /// The first address of the network (host bits cleared).
    public let network: IPv4Address
    /// The number of leading one bits in the mask, 0...32.
    public let prefixLength: Int

    /// Creates the subnet of `address` with `prefixLength` bits of mask, or nil when
    /// the prefix length is outside 0...32.
    public init?(address: IPv4Address, prefixLength: Int) {
        guard (0...32).contains(prefixLength) else { return nil }
        self.prefixLength = prefixLength
        self.network = IPv4Address(rawValue: address.rawValue & Self.mask(prefixLength))
    }

    /// The netmask as a 32-bit value.
    public var mask: UInt32 { Self.mask(prefixLength) }

    /// The last address of the network.
    public var lastAddress: IPv4Address { IPv4Address(rawValue: network.rawValue | ~mask) }

    /// The number of addresses in the network (2^(32 - prefix)).
    public var addressCount: UInt64 { UInt64(1) << UInt64(32 - prefixLength) }

    /// True when `address` lies inside this network.
    public func contains(_ address: IPv4Address) -> Bool {
        address.rawValue & mask == network.rawValue
    }

    /// True when the two networks share at least one address.
    public func overlaps(_ other: IPv4Subnet) -> Bool {
        contains(other.network) || other.contains(network)
    }

    private static func mask(_ prefixLength: Int) -> UInt32 {
        prefixLength == 0 ? 0 : UInt32.max << UInt32(32 - prefixLength)
    }
}

extension IPv4Subnet: CustomStringConvertible {
    /// `198.18.0.0/24`.
    public var description: String { "\(network)/\(prefixLength)" }
}

extension IPv4Subnet: LosslessStringConvertible {
    /// Parses `ADDRESS/PREFIX`. Host bits in the address are cleared.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2,
            let address = IPv4Address(String(parts[0])),
            parts[1].allSatisfy({ $0.isASCII && $0.isNumber }),
            let prefix = Int(parts[1])
        else { return nil }
        self.init(address: address, prefixLength: prefix)
    }
}

/// An address assigned to an adapter together with its prefix: `198.18.0.10/24`.
///
/// Unlike ``IPv4Subnet`` the host bits are kept, because the address itself is
/// the adapter's local IPv4 address that an active VIP records (ARCHITECTURE.md §1, step 6).
public struct IPv4Interface: Hashable, Sendable {
    /// The adapter's own address.
    public let address: IPv4Address
    /// The subnet the address lives in.
    public let subnet: IPv4Subnet

    /// Creates an interface address, or nil when the prefix length is outside 0...32.
    public init?(address: IPv4Address, prefixLength: Int) {
        guard let subnet = IPv4Subnet(address: address, prefixLength: prefixLength) else { return nil }
        self.address = address
        self.subnet = subnet
    }
}

extension IPv4Interface: CustomStringConvertible {
    /// `198.18.0.10/24`.
    public var description: String { "\(address)/\(subnet.prefixLength)" }
}

extension IPv4Interface: LosslessStringConvertible {
    /// Parses `ADDRESS/PREFIX`, keeping the host bits.
    public init?(_ text: String) {
        guard let subnet = IPv4Subnet(text),
            let address = IPv4Address(String(text.prefix(while: { $0 != "/" })))
        else { return nil }
        self.init(address: address, prefixLength: subnet.prefixLength)
    }
}
