/// The ICMPv6 checksum (RFC 4443 §2.3): the 16-bit one's complement of the one's
/// complement sum of the IPv6 pseudo-header (source, destination, upper-layer length,
/// next header 58) and the ICMPv6 message. Computed on raw buffers, without allocating.
public enum ICMPv6Checksum {
    /// The one's complement sum (not yet complemented) of the pseudo-header and
    /// `message`, folded to 16 bits. A message whose checksum field holds the right value
    /// sums to `0xFFFF`.
    public static func sum(source: IPv6Address, destination: IPv6Address, message: UnsafeRawBufferPointer) -> UInt16 {
        var total: UInt64 = 0
        total &+= halfSum(source.high) &+ halfSum(source.low)
        total &+= halfSum(destination.high) &+ halfSum(destination.low)
        total &+= UInt64(message.count) &+ 58
        let count = message.count
        var offset = 0
        while offset + 8 <= count {
            total &+= halfSum(message.loadUInt64BE(at: offset))
            offset += 8
        }
        while offset + 2 <= count {
            total &+= UInt64(message.loadUInt16BE(at: offset))
            offset += 2
        }
        if offset < count { total &+= UInt64(message[offset]) << 8 }
        while total >> 16 != 0 { total = (total & 0xFFFF) &+ (total >> 16) }
        return UInt16(truncatingIfNeeded: total)
    }

    /// True when `message` (checksum field included) carries a correct checksum.
    public static func isValid(source: IPv6Address, destination: IPv6Address, message: UnsafeRawBufferPointer) -> Bool {
        sum(source: source, destination: destination, message: message) == 0xFFFF
    }

    /// The value to store in the checksum field of `message`, whose checksum field
    /// (bytes 2-3) must hold zero.
    public static func compute(source: IPv6Address, destination: IPv6Address, message: UnsafeRawBufferPointer) -> UInt16 {
        let value = ~sum(source: source, destination: destination, message: message)
        return value
    }

    /// The sum of the four 16-bit words of `value` (at most 4 × 0xFFFF: no overflow).
    @inline(__always)
    private static func halfSum(_ value: UInt64) -> UInt64 {
        (value >> 48) &+ (value >> 32 & 0xFFFF) &+ (value >> 16 & 0xFFFF) &+ (value & 0xFFFF)
    }
}
