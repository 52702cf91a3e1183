/// An IPv6 address, stored as two 64-bit halves in host byte order (`2001:db8::1` is
/// `high 0x2001_0db8_0000_0000`, `low 1`).
public struct IPv6Address: Hashable, Sendable, Comparable {
    /// The first 64 bits on the wire (the routing prefix and subnet for a /64).
    public let high: UInt64
    /// The last 64 bits on the wire (the interface identifier for a /64).
    public let low: UInt64

    /// Creates an address from its two halves.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Creates an address from eight 16-bit groups in wire order.
    public init(groups g: (UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16)) {
        high = UInt64(g.0) << 48 | UInt64(g.1) << 32 | UInt64(g.2) << 16 | UInt64(g.3)
        low = UInt64(g.4) << 48 | UInt64(g.5) << 32 | UInt64(g.6) << 16 | UInt64(g.7)
    }

    /// `::`, the source of a Duplicate Address Detection probe.
    public static let unspecified = IPv6Address(high: 0, low: 0)
    /// `ff02::1`, the all-nodes link-local group: destination of unsolicited advertisements.
    public static let allNodes = IPv6Address(high: 0xFF02_0000_0000_0000, low: 1)

    /// True for `::`.
    public var isUnspecified: Bool { high == 0 && low == 0 }
    /// True for `ff00::/8`.
    public var isMulticast: Bool { high >> 56 == 0xFF }
    /// True for `fe80::/10`.
    public var isLinkLocal: Bool { high >> 54 == 0xFE80 >> 6 }
    /// True for `::1`.
    public var isLoopback: Bool { high == 0 && low == 1 }

    /// The 16-bit group at `index` (0...7) in wire order.
    public func group(_ index: Int) -> UInt16 {
        let half = index < 4 ? high : low
        return UInt16(truncatingIfNeeded: half >> UInt64(48 - 16 * (index & 3)))
    }

    /// The octet at `index` (0...15) in wire order.
    public func octet(_ index: Int) -> UInt8 {
        let half = index < 8 ? high : low
        return UInt8(truncatingIfNeeded: half >> UInt64(56 - 8 * (index & 7)))
    }

    /// The solicited-node multicast group of this address (RFC 4291 §2.7.1):
    /// `ff02::1:ff` followed by its low 24 bits. Neighbor Solicitations for the address
    /// are sent there.
    public var solicitedNodeGroup: IPv6Address {
        IPv6Address(high: 0xFF02_0000_0000_0000, low: 0x0000_0001_FF00_0000 | (low & 0xFF_FFFF))
    }

    /// The Ethernet multicast MAC of this (multicast) address (RFC 2464 §7):
    /// `33:33` followed by its low 32 bits.
    public var multicastMAC: MACAddress {
        MACAddress(rawValue: 0x3333_0000_0000 | (low & 0xFFFF_FFFF))
    }

    /// The address `offset` further on, or nil past `ffff:...:ffff`.
    public func advanced(by offset: UInt64) -> IPv6Address? {
        let (sum, carry) = low.addingReportingOverflow(offset)
        guard carry else { return IPv6Address(high: high, low: sum) }
        let (newHigh, overflow) = high.addingReportingOverflow(1)
        return overflow ? nil : IPv6Address(high: newHigh, low: sum)
    }

    public static func < (lhs: IPv6Address, rhs: IPv6Address) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }
}

extension IPv6Address: CustomStringConvertible {
    /// The canonical text form of RFC 5952: lower-case hex, no leading zeros, the longest
    /// run of two or more zero groups (the first of equal runs) as `::`.
    public var description: String {
        var bestStart = -1
        var bestLength = 1
        var index = 0
        while index < 8 {
            if group(index) == 0 {
                var end = index
                while end < 8 && group(end) == 0 { end += 1 }
                if end - index > bestLength {
                    bestStart = index
                    bestLength = end - index
                }
                index = end
            } else {
                index += 1
            }
        }
        var text = ""
        text.reserveCapacity(39)
        index = 0
        while index < 8 {
            if index == bestStart {
                text += "::"
                index += bestLength
                continue
            }
            if !text.isEmpty && !text.hasSuffix(":") { text += ":" }
            text += String(group(index), radix: 16)
            index += 1
        }
        return text
    }
}

extension IPv6Address: LosslessStringConvertible {
    /// Parses the text forms of RFC 4291 §2.2: eight groups of one to four hex digits,
    /// at most one `::`, and optionally a dotted-quad IPv4 tail. No zone (`%eth0`), no prefix.
    public init?(_ text: String) {
        guard !text.isEmpty, text.count <= 45, text.allSatisfy(\.isASCII) else { return nil }
        let halves = text.split(separator: "::", maxSplits: 2, omittingEmptySubsequences: false)
        guard halves.count <= 2 else { return nil }
        guard let head = Self.groups(of: halves[0], allowIPv4Tail: halves.count == 1) else { return nil }
        var groups = head
        if halves.count == 2 {
            guard let tail = Self.groups(of: halves[1], allowIPv4Tail: true),
                head.count + tail.count <= 7
            else { return nil }
            groups += [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard groups.count == 8 else { return nil }
        self.init(groups: (groups[0], groups[1], groups[2], groups[3], groups[4], groups[5], groups[6], groups[7]))
    }

    /// The groups of one side of `::` (empty text: none), or nil when malformed.
    private static func groups(of text: Substring, allowIPv4Tail: Bool) -> [UInt16]? {
        guard !text.isEmpty else { return [] }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        var groups: [UInt16] = []
        for (index, part) in parts.enumerated() {
            if index == parts.count - 1, allowIPv4Tail, part.contains(".") {
                guard let v4 = IPv4Address(String(part)) else { return nil }
                groups.append(UInt16(truncatingIfNeeded: v4.rawValue >> 16))
                groups.append(UInt16(truncatingIfNeeded: v4.rawValue))
                continue
            }
            guard (1...4).contains(part.count), part.allSatisfy(\.isHexDigit),
                let value = UInt16(part, radix: 16)
            else { return nil }
            groups.append(value)
        }
        return groups
    }
}

extension IPv6Address: CodableAsText {}
