import ProxyARPCore

/// The IPv6 addresses of a ``HostLab``: two /64s inside 2001:db8::/32 like the lab's two
/// IPv4 subnets (h0 and h1 on the first, h2 on the second, the client on both). A plain
/// value, known before the lab exists (a test names its VIPs from it); given to
/// ``HostLab/enableIPv6(plan:)``.
///
///     site 0 (``standard``):  h0 2001:db8::10/64  h1 2001:db8::11/64  h2 2001:db8:0:1::10/64
///                             client 2001:db8::1/64 and 2001:db8:0:1::1/64
public struct IPv6LabPlan: Sendable, Hashable {
    /// The plan of site 0: `2001:db8::/64` (h0, h1) and `2001:db8:0:1::/64` (h2).
    public static let standard = IPv6LabPlan(site: 0)

    /// The third group of every address: `2001:db8:SITE:0::/64` and `2001:db8:SITE:1::/64`.
    public let site: UInt16

    /// Creates the plan of site `site`.
    public init(site: UInt16) {
        self.site = site
    }

    /// The first /64 (h0, h1): `2001:db8:SITE::/64`, as its network address.
    public var primaryPrefix: IPv6Address { IPv6Address(high: 0x2001_0DB8_0000_0000 | UInt64(site) << 16, low: 0) }
    /// The second /64 (h2): `2001:db8:SITE:1::/64`.
    public var secondaryPrefix: IPv6Address { IPv6Address(high: primaryPrefix.high | 1, low: 0) }

    /// The address of host adapter `name`: `::10` (h0), `::11` (h1) on the first /64, `::10`
    /// (h2, and any further adapter) on the second.
    public func address(of name: String) -> IPv6Address {
        switch name {
        case "h0": IPv6Address(high: primaryPrefix.high, low: 0x10)
        case "h1": IPv6Address(high: primaryPrefix.high, low: 0x11)
        default: IPv6Address(high: secondaryPrefix.high, low: 0x10)
        }
    }

    /// The /64 of host adapter `name`: the first for h0 and h1, the second for the others.
    public func prefix(of name: String) -> IPv6Prefix {
        IPv6Prefix(address: address(of: name), length: 64)!.network
    }

    /// The client's address on the first /64 (`::1`).
    public var client: IPv6Address { IPv6Address(high: primaryPrefix.high, low: 1) }
    /// The client's address on the second /64 (`::1`).
    public var secondaryClient: IPv6Address { IPv6Address(high: secondaryPrefix.high, low: 1) }

    /// An address of the first /64 that no adapter holds (`::100` + `index`): a VIP.
    public func vip(_ index: Int) -> IPv6Address { IPv6Address(high: primaryPrefix.high, low: 0x100 + UInt64(index)) }
}
