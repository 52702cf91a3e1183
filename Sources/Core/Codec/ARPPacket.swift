/// The ARP operation code of an IPv4-over-Ethernet ARP packet.
public enum ARPOperation: UInt16, Hashable, Sendable, CaseIterable {
    /// `1`: who has the target IP?
    case request = 1
    /// `2`: the sender IP is at the sender MAC.
    case reply = 2
}

/// The body of an ARP packet for IPv4 over Ethernet (htype 1, ptype 0x0800, hlen 6, plen 4).
public struct ARPPacket: Hashable, Sendable {
    /// Length of the packet on the wire: 8 bytes of fixed header plus 2 × (6 + 4).
    public static let length = 28
    /// Hardware type for Ethernet.
    public static let hardwareTypeEthernet: UInt16 = 1
    /// Hardware address length for Ethernet.
    public static let hardwareLength: UInt8 = 6
    /// Protocol address length for IPv4.
    public static let protocolLength: UInt8 = 4

    /// Request or reply.
    public var operation: ARPOperation
    /// The sender hardware address (SHA).
    public var senderMAC: MACAddress
    /// The sender protocol address (SPA); `0.0.0.0` in an RFC 5227 probe.
    public var senderIP: IPv4Address
    /// The target hardware address (THA).
    public var targetMAC: MACAddress
    /// The target protocol address (TPA).
    public var targetIP: IPv4Address

    /// Creates a packet.
    public init(
        operation: ARPOperation,
        senderMAC: MACAddress,
        senderIP: IPv4Address,
        targetMAC: MACAddress,
        targetIP: IPv4Address
    ) {
        self.operation = operation
        self.senderMAC = senderMAC
        self.senderIP = senderIP
        self.targetMAC = targetMAC
        self.targetIP = targetIP
    }
}
