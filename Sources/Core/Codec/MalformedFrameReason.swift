/// Why a frame that claims to be ARP (or carries VLAN tags) cannot be used.
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
}
