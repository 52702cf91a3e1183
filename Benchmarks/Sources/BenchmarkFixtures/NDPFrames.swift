import ProxyARPCore

/// Neighbor Solicitations for the IPv6 side of the fast path: addresses from
/// 2001:db8::/32 only.
extension Fixtures {
    /// The `index`-th IPv6 VIP: 2001:db8:1::`index`.
    public static func ipv6VIP(_ index: Int) -> IPv6Address {
        IPv6Address(high: 0x2001_0db8_0001_0000, low: UInt64(index))
    }

    /// An adapter view answering for `vipCount` IPv6 VIPs (all watched) and no IPv4 one.
    public static func ndpView(vipCount: Int) -> AnswerView {
        let vips = IPv6AddressSet((0..<vipCount).map(ipv6VIP))
        return AnswerView(
            adapterMAC: adapterMAC, proxyList: [], watchedVIPs: [], ownMACs: [adapterMAC, siblingMAC],
            ipv6: IPv6AnswerSets(proxyList: vips, watchedVIPs: vips))
    }

    /// A multicast Neighbor Solicitation with a source link-layer option (86 bytes, as
    /// Linux sends it) from requester number `requester` for `target`.
    public static func solicitation(requester: Int, target: IPv6Address) -> [UInt8] {
        let mac = MACAddress(rawValue: 0x02c0_0000_0000 | UInt64(requester & 0xFF_FFFF))
        let source = IPv6Address(high: 0x2001_0db8_0000_0000, low: 0x1_0000 | UInt64(requester & 0xFFFF))
        let group = target.solicitedNodeGroup
        var frame = [UInt8](repeating: 0, count: 86)
        func put(_ value: UInt64, bytes: Int, at offset: Int) {
            for index in 0..<bytes { frame[offset + index] = UInt8(truncatingIfNeeded: value >> UInt64(8 * (bytes - 1 - index))) }
        }
        put(group.multicastMAC.rawValue, bytes: 6, at: 0)
        put(mac.rawValue, bytes: 6, at: 6)
        put(0x86DD, bytes: 2, at: 12)
        put(0x6000_0000, bytes: 4, at: 14)
        put(32, bytes: 2, at: 18)
        frame[20] = 58
        frame[21] = 255
        put(source.high, bytes: 8, at: 22)
        put(source.low, bytes: 8, at: 30)
        put(group.high, bytes: 8, at: 38)
        put(group.low, bytes: 8, at: 46)
        frame[54] = 135
        put(target.high, bytes: 8, at: 62)
        put(target.low, bytes: 8, at: 70)
        frame[78] = 1
        frame[79] = 1
        put(mac.rawValue, bytes: 6, at: 80)
        let checksum = frame.withUnsafeBytes {
            ICMPv6Checksum.compute(source: source, destination: group, message: UnsafeRawBufferPointer(rebasing: $0[54...]))
        }
        put(UInt64(checksum), bytes: 2, at: 56)
        return frame
    }

    /// `count` solicitations back to back; solicitation `i` asks for `ipv6VIP(i % vipCount)`.
    public static func ndpBatch(count: Int, vipCount: Int) -> RequestBatch {
        var storage: [UInt8] = []
        var offsets: [Int] = []
        for index in 0..<count {
            offsets.append(storage.count)
            storage += solicitation(requester: index, target: ipv6VIP((index &* 7919) % max(vipCount, 1)))
        }
        return RequestBatch(storage: storage, offsets: offsets, frameLength: 86)
    }
}
