/// Neighbor Solicitations (RFC 4861 §4.3) as the Linux kernel sends them, as new arrays:
/// untagged Ethernet to the target's solicited-node group (33:33:ff:xx:xx:xx) → IPv6
/// (traffic class 0, flow label 0, hop limit 255, no extension header) → ICMPv6 type 135
/// with its checksum and one option. Control-plane frames (the daemon's Duplicate Address
/// Detection probe, the lab's generators), not the answer path: they allocate.
extension NDPFrames {
    /// The one option a solicitation carries.
    public enum SolicitationOption: Sendable, Hashable {
        /// The source link-layer address option (type 1): an address resolution.
        case sourceLinkLayerAddress(MACAddress)
        /// The nonce option (type 14, RFC 7527, six bytes): a Duplicate Address Detection
        /// probe, which must not carry a source link-layer address (RFC 4861 §7.1.1).
        case nonce(UInt64)
    }

    /// 14 (Ethernet) + 40 (IPv6) + 24 (solicitation) + 8 (one 8-byte option).
    public static let solicitationLength = 86

    /// An address resolution for `target` from `mac`/`source`, to `target`'s solicited-node
    /// group, with the source link-layer option: byte for byte the kernel's
    /// (Tests/Fixtures/linux-arp-ndp.pcap frame 14).
    public static func solicitation(from mac: MACAddress, source: IPv6Address, target: IPv6Address) -> [UInt8] {
        solicitation(from: mac, source: source, target: target, option: .sourceLinkLayerAddress(mac))
    }

    /// A Duplicate Address Detection probe for `vip` (RFC 4862 §5.4.2): from the
    /// unspecified address `::`, to `vip`'s solicited-node group, with a nonce option and no
    /// link-layer option, sent from `mac`. A host that holds `vip` answers it with an
    /// advertisement to all-nodes. Byte for byte the kernel's probe with the same nonce
    /// (Tests/Fixtures/linux-ndp.pcap frames 3 and 5). Only the low 48 bits of `nonce` are sent.
    public static func duplicateAddressProbe(mac: MACAddress, vip: IPv6Address, nonce: UInt64) -> [UInt8] {
        solicitation(from: mac, source: .unspecified, target: vip, option: .nonce(nonce))
    }

    /// A solicitation for `target` carrying `option`, to `target`'s solicited-node group.
    public static func solicitation(
        from mac: MACAddress, source: IPv6Address, target: IPv6Address, option: SolicitationOption
    ) -> [UInt8] {
        let group = target.solicitedNodeGroup
        var frame: [UInt8] = []
        frame.reserveCapacity(solicitationLength)
        frame += bytes(of: group.multicastMAC) + bytes(of: mac) + [0x86, 0xDD]
        frame += [0x60, 0, 0, 0]  // version 6, traffic class 0, flow label 0
        frame += [0, 32, 58, 255]  // payload length 32, next header ICMPv6, hop limit 255
        frame += bytes(of: source) + bytes(of: group)
        var message: [UInt8] = [NDPParser.solicitationType, 0, 0, 0, 0, 0, 0, 0] + bytes(of: target)
        switch option {
        case .sourceLinkLayerAddress(let address):
            message += [1, 1] + bytes(of: address)
        case .nonce(let nonce):
            message += [14, 1] + (0..<6).map { UInt8(truncatingIfNeeded: nonce >> (8 * (5 - $0))) }
        }
        let checksum = message.withUnsafeBytes { ICMPv6Checksum.compute(source: source, destination: group, message: $0) }
        message[2] = UInt8(checksum >> 8)
        message[3] = UInt8(truncatingIfNeeded: checksum)
        return frame + message
    }

    /// The 16 bytes of `address`, network order.
    private static func bytes(of address: IPv6Address) -> [UInt8] {
        (0..<16).map { address.octet($0) }
    }

    /// The 6 bytes of `mac`, network order.
    private static func bytes(of mac: MACAddress) -> [UInt8] {
        (0..<6).map { mac.octet($0) }
    }
}
