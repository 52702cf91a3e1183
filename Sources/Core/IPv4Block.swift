/// Aligned address blocks: the unit in which VIPs are grouped on agents and bound in the
/// kernel (one policy rule and one local route per block run instead of per VIP).
extension IPv4Subnet {
    /// The aligned block of `prefixLength` (0...32) that holds `address`.
    public static func block(containing address: IPv4Address, prefixLength: Int) -> IPv4Subnet {
        guard let block = IPv4Subnet(address: address, prefixLength: prefixLength) else {
            preconditionFailure("prefix length \(prefixLength) out of 0...32")
        }
        return block
    }

    /// Every address of the block, lowest first, computed as iterated (a `/0` is 2^32 of them:
    /// callers bound what they enumerate).
    public var addresses: LazyMapSequence<ClosedRange<UInt32>, IPv4Address> {
        (network.rawValue...lastAddress.rawValue).lazy.map { IPv4Address(rawValue: $0) }
    }

    /// The fewest subnets whose union is exactly `addresses`: every run of consecutive
    /// addresses split into the largest aligned blocks that fit in it. Sorted by address.
    public static func exactCover(of addresses: some Sequence<IPv4Address>) -> [IPv4Subnet] {
        let sorted = addresses.map(\.rawValue).sorted()
        var cover: [IPv4Subnet] = []
        var index = 0
        while index < sorted.count {
            // The run sorted[index...last] is consecutive (duplicates folded).
            var last = index
            while last + 1 < sorted.count, sorted[last + 1] - sorted[last] <= 1 { last += 1 }
            appendCover(from: UInt64(sorted[index]), through: UInt64(sorted[last]), to: &cover)
            index = last + 1
        }
        return cover
    }

    /// Appends the largest aligned blocks that tile `first...last`.
    private static func appendCover(from first: UInt64, through last: UInt64, to cover: inout [IPv4Subnet]) {
        var start = first
        while start <= last {
            // The largest power-of-two block aligned at `start` that ends by `last`.
            var size: UInt64 = start == 0 ? 1 << 32 : UInt64(1) << UInt64(start.trailingZeroBitCount)
            while start + size - 1 > last { size >>= 1 }
            let prefixLength = 32 - (size.bitWidth - 1 - size.leadingZeroBitCount)
            cover.append(IPv4Subnet(address: IPv4Address(rawValue: UInt32(start)), prefixLength: prefixLength)!)
            start += size
        }
    }
}
