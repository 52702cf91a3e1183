/// Ethernet type values the codec recognises (IEEE 802.3 / IANA).
public enum EtherType {
    /// ARP, `0x0806`.
    public static let arp: UInt16 = 0x0806
    /// IPv4, `0x0800`; also the ARP protocol type for IPv4 addresses.
    public static let ipv4: UInt16 = 0x0800
    /// IPv6, `0x86DD`.
    public static let ipv6: UInt16 = 0x86DD
    /// An IEEE 802.1Q VLAN tag (customer tag, C-tag), `0x8100`.
    public static let vlan: UInt16 = 0x8100
    /// An IEEE 802.1ad service tag (S-tag, the outer tag of QinQ), `0x88A8`.
    public static let serviceVLAN: UInt16 = 0x88A8

    /// True for the tag protocol identifiers the codec walks through.
    @inlinable
    public static func isVLANTag(_ type: UInt16) -> Bool {
        type == vlan || type == serviceVLAN
    }
}
