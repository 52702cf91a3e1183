/// Why a frame that claims to be ARP or Neighbor Discovery (or carries VLAN tags) cannot be used.
///
/// A flat, `CaseIterable` enum so that drop counters can exist per reason.
public enum MalformedFrameReason: String, Hashable, Sendable, CaseIterable {
    /// The frame ends before the Ethernet header, a VLAN tag, or the 28-byte ARP body ends.
    case truncated
    /// More than two VLAN tags (802.1Q/802.1ad) in a row.
    case tooManyVLANTags
    /// ARP hardware type other than 1 (Ethernet).
    case badHardwareType
    /// ARP protocol type other than 0x0800 (IPv4).
    case badProtocolType
    /// ARP hardware/protocol address lengths other than 6 and 4.
    case badAddressLengths
    /// ARP opcode other than 1 (request) or 2 (reply), e.g. 3 (RARP request).
    case unknownOpcode
    /// Neighbor Discovery with an IPv6 hop limit other than 255 (it crossed a router).
    case badHopLimit
    /// Neighbor Discovery with an ICMPv6 code other than 0.
    case badICMPv6Code
    /// An ICMPv6 checksum that does not hold.
    case badChecksum
    /// A Neighbor Discovery target that is a multicast address.
    case multicastTarget
    /// A multicast IPv6 source.
    case badIPv6Source
    /// A Neighbor Discovery option of length 0 or running past the message.
    case badNDPOption
    /// A Neighbor Advertisement to a multicast destination with the S flag set.
    case badNDPFlags
    /// A DAD probe (source `::`) with a source link-layer option, or not sent to the
    /// target's solicited-node group.
    case badDADProbe
}
