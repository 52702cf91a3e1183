/// A set of VIPs of both families, each in its sharded set: the IPv4 ones in an
/// ``AddressSet`` (what the ARP answer path reads), the IPv6 ones in an ``IPv6AddressSet``
/// beside it (what the Neighbor Discovery path reads).
public struct VIPAddressSet: Sendable, Equatable {
    /// The IPv4 members.
    public private(set) var ipv4: AddressSet
    /// The IPv6 members.
    public private(set) var ipv6: IPv6AddressSet

    /// An empty set.
    public init() {
        ipv4 = AddressSet()
        ipv6 = IPv6AddressSet()
    }

    /// A set of `addresses`.
    public init<S: Sequence>(_ addresses: S) where S.Element == IPAddress {
        self.init()
        for address in addresses { insert(address) }
    }

    /// Number of addresses.
    public var count: Int { ipv4.count + ipv6.count }

    /// True when the set is empty.
    public var isEmpty: Bool { ipv4.isEmpty && ipv6.isEmpty }

    /// True when `address` is in the set.
    public func contains(_ address: IPAddress) -> Bool {
        switch address {
        case .v4(let v4): ipv4.contains(v4)
        case .v6(let v6): ipv6.contains(v6)
        }
    }

    /// Adds `address`; returns false when it was already there.
    @discardableResult
    public mutating func insert(_ address: IPAddress) -> Bool {
        switch address {
        case .v4(let v4): ipv4.insert(v4)
        case .v6(let v6): ipv6.insert(v6)
        }
    }

    /// Removes `address`; returns false when it was not there.
    @discardableResult
    public mutating func remove(_ address: IPAddress) -> Bool {
        switch address {
        case .v4(let v4): ipv4.remove(v4)
        case .v6(let v6): ipv6.remove(v6)
        }
    }

    /// Every address, IPv4 first, in no particular order within a family.
    public var elements: [IPAddress] { ipv4.elements.map(IPAddress.v4) + ipv6.map(IPAddress.v6) }
}

extension VIPAddressSet: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: IPAddress...) {
        self.init(elements)
    }
}
