import ProxyARPCore

/// The byte layout of the XDP program's map keys and values (Sources/XDP/proxyarp.bpf.c).
/// Addresses are in wire order; ifindexes and slots in host order.
enum XDPMapLayout {
    /// `vips` flag: a configured VIP (a request from it is a claim: passed).
    static let vipWatched: UInt32 = 1
    /// `vips` flag: on some adapter's proxy list (a request for it on another adapter: dropped).
    static let vipActive: UInt32 = 2
    /// Bytes of `struct adapter_stats` (four `__u64`).
    static let adapterStatsLength = 32

    /// `struct answer_key`: ifindex, VIP.
    static func answerKey(ifindex: UInt32, vip: IPv4Address) -> [UInt8] {
        bytes(of: ifindex) + address(vip)
    }

    /// `struct answer_value`: the agent MAC, two reserved bytes.
    static func answerValue(_ mac: MACAddress) -> [UInt8] { macBytes(mac) + [0, 0] }

    /// `struct adapter_value`: the adapter's MAC, two reserved bytes, its counter slot.
    static func adapterValue(mac: MACAddress, slot: UInt32) -> [UInt8] { macBytes(mac) + [0, 0] + bytes(of: slot) }

    /// The `own_macs` key: the MAC in the low six bytes of a `__u64`, in wire order.
    static func macKey(_ mac: MACAddress) -> [UInt8] { macBytes(mac) + [0, 0] }

    /// A VIP as the `vips` and `vip_replies` keys hold it.
    static func address(_ address: IPv4Address) -> [UInt8] { bytes(of: address.rawValue.bigEndian) }

    /// The VIP a `vips`/`vip_replies` key holds.
    static func address(from key: [UInt8]) -> IPv4Address {
        IPv4Address(key[0], key[1], key[2], key[3])
    }

    static func macBytes(_ mac: MACAddress) -> [UInt8] { (0..<6).map { mac.octet($0) } }

    static func bytes<T: FixedWidthInteger>(of value: T) -> [UInt8] {
        withUnsafeBytes(of: value) { Array($0) }
    }
}
