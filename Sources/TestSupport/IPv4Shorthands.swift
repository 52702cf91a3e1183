import ProxyARPCore
import ProxyARPStateMachines

// IPv4 shorthands over the family-blind VIP key (``IPAddress``), for the tests and labs
// that speak of IPv4 VIPs: `table.proxyLists[a]?.contains(vip)`, `bindings[vip]`,
// `.vip(vip)` with an `IPv4Address`, as before IPv6 VIPs existed. Each one wraps the
// address in `.v4` and nothing more; an IPv6 key never matches an IPv4 shorthand.

extension IPv4Subnet {
    /// True when `address` is an IPv4 address in this subnet.
    public func contains(_ address: IPAddress) -> Bool {
        address.ipv4.map { contains($0) } ?? false
    }
}

extension ProxyList {
    /// True when `address` is an IPv4 VIP on this list.
    public func contains(_ address: IPAddress) -> Bool {
        address.ipv4.map { contains($0) } ?? false
    }
}

extension AddressSet {
    /// True when `address` is an IPv4 address in the set.
    public func contains(_ address: IPAddress) -> Bool {
        address.ipv4.map { contains($0) } ?? false
    }
}

extension TraceSubject {
    /// The trace subject of the IPv4 VIP `address`.
    public static func vip(_ address: IPv4Address) -> TraceSubject { .vip(.v4(address)) }
}

extension Dictionary where Key == IPAddress {
    /// The value of the IPv4 VIP `address`.
    public subscript(_ address: IPv4Address) -> Value? {
        get { self[.v4(address)] }
        set { self[.v4(address)] = newValue }
    }
}

extension Set where Element == IPAddress {
    /// True when the IPv4 VIP `address` is in the set.
    public func contains(_ address: IPv4Address) -> Bool { contains(.v4(address)) }
}

extension AgentSelection {
    /// The agent of the IPv4 VIP `vip`.
    public func agent(of vip: IPv4Address) -> AdapterName? { agent(of: .v4(vip)) }

    /// Releases the IPv4 VIP `vip`.
    public mutating func release(_ vip: IPv4Address) { release(.v4(vip)) }
}

extension IPAddress {
    /// True when `lhs` is the IPv4 address `rhs`.
    public static func == (lhs: IPAddress, rhs: IPv4Address) -> Bool { lhs == .v4(rhs) }

    /// True when `lhs` is not the IPv4 address `rhs`.
    public static func != (lhs: IPAddress, rhs: IPv4Address) -> Bool { lhs != .v4(rhs) }
}

extension IPv4Address {
    /// True when `rhs` is the IPv4 address `lhs`.
    public static func == (lhs: IPv4Address, rhs: IPAddress) -> Bool { .v4(lhs) == rhs }

    /// True when `rhs` is not the IPv4 address `lhs`.
    public static func != (lhs: IPv4Address, rhs: IPAddress) -> Bool { .v4(lhs) != rhs }
}
