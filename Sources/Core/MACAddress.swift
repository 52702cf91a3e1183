/// A 48-bit IEEE 802 hardware address, stored in the low 48 bits of a `UInt64`.
///
/// The first octet on the wire is the most significant of the 48 bits, so
/// `MACAddress(rawValue: 0x0200_0000_0a01)` prints as `02:00:00:00:0a:01`.
public struct MACAddress: Hashable, Sendable, Comparable {
    /// The address in the low 48 bits; the high 16 bits are always zero.
    public let rawValue: UInt64

    /// Creates an address from its 48-bit value; bits above 48 are dropped.
    public init(rawValue: UInt64) {
        self.rawValue = rawValue & 0xFFFF_FFFF_FFFF
    }

    /// Creates an address from six octets in wire order.
    public init(_ o0: UInt8, _ o1: UInt8, _ o2: UInt8, _ o3: UInt8, _ o4: UInt8, _ o5: UInt8) {
        var value: UInt64 = UInt64(o0)
        value = value << 8 | UInt64(o1)
        value = value << 8 | UInt64(o2)
        value = value << 8 | UInt64(o3)
        value = value << 8 | UInt64(o4)
        value = value << 8 | UInt64(o5)
        self.rawValue = value
    }

    /// `ff:ff:ff:ff:ff:ff`.
    public static let broadcast = MACAddress(rawValue: 0xFFFF_FFFF_FFFF)
    /// `00:00:00:00:00:00`, the "unknown" target hardware address of an ARP request.
    public static let zero = MACAddress(rawValue: 0)

    /// True for `ff:ff:ff:ff:ff:ff`.
    public var isBroadcast: Bool { rawValue == Self.broadcast.rawValue }
    /// True when the group bit (lowest bit of the first octet) is set; includes broadcast.
    public var isMulticast: Bool { (rawValue >> 40) & 1 == 1 }
    /// True for an individual (unicast) address other than all-zero.
    public var isUnicast: Bool { !isMulticast && rawValue != 0 }

    /// The octet at `index` (0...5) in wire order.
    public func octet(_ index: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: rawValue >> UInt64(40 - 8 * index))
    }

    public static func < (lhs: MACAddress, rhs: MACAddress) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension MACAddress: CustomStringConvertible {
    /// Lower-case, colon-separated: `02:00:00:00:0a:01`.
    public var description: String {
        let digits: [Character] = Array("0123456789abcdef")
        var text = ""
        text.reserveCapacity(17)
        for index in 0..<6 {
            if index > 0 { text.append(":") }
            let byte = octet(index)
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return text
    }
}

extension MACAddress: LosslessStringConvertible {
    /// Parses `02:00:00:00:0a:01` (colons or dashes, either case).
    public init?(_ text: String) {
        let parts = text.split(omittingEmptySubsequences: false) { $0 == ":" || $0 == "-" }
        guard parts.count == 6 else { return nil }
        var value: UInt64 = 0
        for part in parts {
            // Hex digits only: `UInt8(_:radix:)` alone would also take a sign ("+2").
            guard (1...2).contains(part.count), part.allSatisfy(\.isHexDigit), part.allSatisfy(\.isASCII),
                let byte = UInt8(part, radix: 16)
            else { return nil }
            value = value << 8 | UInt64(byte)
        }
        self.init(rawValue: value)
    }
}

extension MACAddress: CodableAsText {}
