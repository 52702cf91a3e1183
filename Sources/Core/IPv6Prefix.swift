/// An IPv6 address with its prefix length, as an adapter's address is configured
/// (`2001:db8::10/64`): the adapter's on-link prefix, for the same-prefix preference.
public struct IPv6Prefix: Hashable, Sendable {
    /// The address as configured (host bits kept).
    public let address: IPv6Address
    /// The prefix length, 0...128.
    public let length: Int

    /// Creates a prefix; nil when `length` is outside 0...128.
    public init?(address: IPv6Address, length: Int) {
        guard (0...128).contains(length) else { return nil }
        self.address = address
        self.length = length
    }

    /// True when `other` lies in this prefix.
    public func contains(_ other: IPv6Address) -> Bool {
        let (highMask, lowMask) = Self.masks(length)
        return address.high & highMask == other.high & highMask && address.low & lowMask == other.low & lowMask
    }

    /// The prefix with its host bits cleared (`2001:db8::/64` for `2001:db8::10/64`): the
    /// destination of the route to it.
    public var network: IPv6Prefix {
        let (highMask, lowMask) = Self.masks(length)
        return IPv6Prefix(address: IPv6Address(high: address.high & highMask, low: address.low & lowMask), length: length)!
    }

    /// The network bits of a prefix of `length`, as masks of the two halves.
    private static func masks(_ length: Int) -> (UInt64, UInt64) {
        func mask(_ bits: Int) -> UInt64 { bits <= 0 ? 0 : bits >= 64 ? .max : ~(UInt64.max >> UInt64(bits)) }
        return (mask(length), mask(length - 64))
    }
}

extension IPv6Prefix: CustomStringConvertible {
    /// `2001:db8::10/64`.
    public var description: String { "\(address)/\(length)" }
}

extension IPv6Prefix: LosslessStringConvertible {
    /// Parses `ADDRESS/LENGTH` (`2001:db8::10/64`), host bits kept.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPv6Address(String(parts[0])),
            parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let length = Int(parts[1])
        else { return nil }
        self.init(address: address, length: length)
    }
}

extension IPv6Prefix: CodableAsText {}
