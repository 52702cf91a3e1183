/// A reply the answer path decided to send: everything needed to write it, and nothing
/// that allocates.
public struct ARPReplyPlan: Hashable, Sendable {
    /// The answering adapter's MAC: Ethernet source and ARP sender hardware address.
    public let adapterMAC: MACAddress
    /// The VIP being answered for: the ARP sender IP.
    public let vip: IPv4Address
    /// The requester's hardware address (ARP sender of the request): Ethernet destination
    /// and ARP target hardware address.
    public let requesterMAC: MACAddress
    /// The requester's IP (ARP sender IP of the request; `0.0.0.0` for a probe).
    public let requesterIP: IPv4Address
    /// The request's VLAN tags, mirrored.
    public let tags: VLANTags

    /// Creates a plan.
    public init(
        adapterMAC: MACAddress,
        vip: IPv4Address,
        requesterMAC: MACAddress,
        requesterIP: IPv4Address,
        tags: VLANTags = VLANTags()
    ) {
        self.adapterMAC = adapterMAC
        self.vip = vip
        self.requesterMAC = requesterMAC
        self.requesterIP = requesterIP
        self.tags = tags
    }

    /// Bytes the reply occupies: 42, plus 4 per tag.
    public var length: Int { EthernetHeader.untaggedLength + tags.byteCount + ARPPacket.length }

    /// Writes the reply into `buffer` and returns its length. Never allocates.
    /// - Precondition: `buffer.count >= length` (``ARPEncoder/maximumLength`` always suffices).
    @discardableResult
    public func encode(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        ARPEncoder.encodeReply(
            into: buffer, from: adapterMAC, vip: vip, to: requesterMAC, requesterIP: requesterIP, tags: tags)
    }

    /// The reply as a new array (tests and control plane).
    public var bytes: [UInt8] {
        ARPFrames.reply(from: adapterMAC, vip: vip, to: requesterMAC, requesterIP: requesterIP, tags: tags)
    }
}
