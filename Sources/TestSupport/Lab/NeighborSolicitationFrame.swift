import ProxyARPCore

/// Multicast Neighbor Solicitations as the Linux kernel sends them (RFC 4861 §4.3; byte
/// for byte frame 14 of `Tests/Fixtures/linux-arp-ndp.pcap`): untagged Ethernet to the
/// target's solicited-node group (33:33:ff:xx:xx:xx) → IPv6 (traffic class 0, flow label
/// 0, hop limit 255, no extension header) → ICMPv6 type 135 with its checksum and the
/// source link-layer address option. For the lab's generators (the bench's NDP ladder);
/// the daemon never solicits.
public enum NeighborSolicitationFrame {
    /// 14 (Ethernet) + 40 (IPv6) + 24 (solicitation) + 8 (source link-layer option).
    public static let length = 86

    /// A solicitation from `mac`/`source` for `target`, to `target`'s solicited-node group.
    public static func bytes(from mac: MACAddress, source: IPv6Address, target: IPv6Address) -> [UInt8] {
        let group = target.solicitedNodeGroup
        var frame: [UInt8] = []
        frame.reserveCapacity(length)
        frame += octets(of: group.multicastMAC) + octets(of: mac) + [0x86, 0xDD]
        frame += [0x60, 0, 0, 0]  // version 6, traffic class 0, flow label 0
        frame += [0, 32, 58, 255]  // payload length 32, next header ICMPv6, hop limit 255
        frame += octets(of: source) + octets(of: group)
        var message: [UInt8] = [135, 0, 0, 0, 0, 0, 0, 0] + octets(of: target) + [1, 1] + octets(of: mac)
        let checksum = message.withUnsafeBytes { ICMPv6Checksum.compute(source: source, destination: group, message: $0) }
        message[2] = UInt8(checksum >> 8)
        message[3] = UInt8(truncatingIfNeeded: checksum)
        return frame + message
    }

    /// The 16 bytes of `address`, network order.
    static func octets(of address: IPv6Address) -> [UInt8] {
        (0..<16).map { address.octet($0) }
    }

    /// The 6 bytes of `mac`, network order.
    static func octets(of mac: MACAddress) -> [UInt8] {
        (0..<6).map { mac.octet($0) }
    }
}
