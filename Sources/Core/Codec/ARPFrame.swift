/// A parsed, well-formed ARP-over-Ethernet frame (IPv4, htype 1, hlen 6, plen 4).
///
/// A plain value: building one from a buffer allocates nothing.
public struct ARPFrame: Hashable, Sendable {
    /// The Ethernet header, tags included.
    public var ethernet: EthernetHeader
    /// The ARP body.
    public var arp: ARPPacket

    /// Creates a frame from its parts.
    public init(ethernet: EthernetHeader, arp: ARPPacket) {
        self.ethernet = ethernet
        self.arp = arp
    }

    /// The kind of ARP packet (probe, gratuitous request, ..., reply). See ``ARPFrameKind``
    /// for the order in which the rules apply.
    public var kind: ARPFrameKind {
        switch arp.operation {
        case .request:
            if arp.senderIP.isUnspecified { return .probe }
            if arp.senderIP == arp.targetIP { return .gratuitousRequest }
            if !ethernet.destination.isBroadcast { return .unicastRequest }
            return .request
        case .reply:
            if arp.senderIP == arp.targetIP,
                arp.targetMAC == arp.senderMAC || arp.targetMAC.isBroadcast
            {
                return .gratuitousReply
            }
            return .reply
        }
    }

    /// True when the Ethernet source differs from the ARP sender hardware address.
    /// Not an error (proxies and some bridges do it), but worth noticing.
    public var ethernetSourceMismatch: Bool { ethernet.source != arp.senderMAC }

    /// True for the gratuitous forms (request or reply) that announce an address.
    public var isGratuitous: Bool {
        switch kind {
        case .gratuitousRequest, .gratuitousReply: true
        default: false
        }
    }

    /// Bytes the frame occupies without padding: 42, plus 4 per VLAN tag.
    public var length: Int { ethernet.length + ARPPacket.length }
}
