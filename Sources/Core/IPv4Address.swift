/// An IPv4 address, stored in host byte order (`198.18.0.1` is `0xC612_0001`).
public struct IPv4Address: Hashable, Sendable, Comparable {
    /// The address as a 32-bit number, most significant octet first on the wire.
    public let rawValue: UInt32

    /// Creates an address from its 32-bit value.
    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// Creates an address from four octets in wire order.
    public init(_ o0: UInt8, _ o1: UInt8, _ o2: UInt8, _ o3: UInt8) {
        self.rawValue = UInt32(o0) << 24 | UInt32(o1) << 16 | UInt32(o2) << 8 | UInt32(o3)
    }

    /// `0.0.0.0`, the sender address of an RFC 5227 probe.
    public static let any = IPv4Address(rawValue: 0)

    /// True for `0.0.0.0`.
    public var isUnspecified: Bool { rawValue == 0 }

    /// The octet at `index` (0...3) in wire order.
    public func octet(_ index: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: rawValue >> UInt32(24 - 8 * index))
    }

    /// The address `offset` further on, or nil past `255.255.255.255`.
    public func advanced(by offset: UInt32) -> IPv4Address? {
        let (sum, overflow) = rawValue.addingReportingOverflow(offset)
        return overflow ? nil : IPv4Address(rawValue: sum)
    }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension IPv4Address: CustomStringConvertible {
    /// Dotted quad: `198.18.0.1`.
    public var description: String {
        "\(octet(0)).\(octet(1)).\(octet(2)).\(octet(3))"
    }
}

extension IPv4Address: LosslessStringConvertible {
    /// Parses a strict dotted quad: four decimal octets, no leading zeros, no spaces.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.count),
                part.allSatisfy({ $0.isASCII && $0.isNumber }),
                part.count == 1 || part.first != "0",
                let octet = UInt8(part)
            else { return nil }
            value = value << 8 | UInt32(octet)
        }
        self.init(rawValue: value)
    }
}

extension IPv4Address: CodableAsText {}
