/// A parsed Ethernet II header, with up to two VLAN tags.
public struct EthernetHeader: Hashable, Sendable {
    /// Length of an untagged Ethernet II header: destination, source, type.
    public static let untaggedLength = 14

    /// The destination hardware address.
    public var destination: MACAddress
    /// The source hardware address.
    public var source: MACAddress
    /// The VLAN tags, outermost first.
    public var tags: VLANTags
    /// The Ethernet type after the tags (e.g. ``EtherType/arp``).
    public var etherType: UInt16

    /// Creates a header.
    public init(destination: MACAddress, source: MACAddress, tags: VLANTags = VLANTags(), etherType: UInt16) {
        self.destination = destination
        self.source = source
        self.tags = tags
        self.etherType = etherType
    }

    /// Bytes the header occupies on the wire: 14, plus 4 per tag.
    public var length: Int { Self.untaggedLength + tags.byteCount }
}
