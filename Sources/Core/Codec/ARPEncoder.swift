/// Writes the three ARP frames proxyarpd sends into a caller-provided buffer, without
/// allocating. Each function returns the number of bytes written: 42 untagged, plus 4
/// per VLAN tag.
public enum ARPEncoder {
    /// The longest frame the encoders write: a double-tagged ARP frame, 50 bytes.
    public static let maximumLength = EthernetHeader.untaggedLength + 4 * VLANTags.maximumCount + ARPPacket.length

    /// An ARP reply, unicast to the requester: Ethernet `from` → `requesterMAC`, opcode 2,
    /// sender = (`from`, `vip`), target = (`requesterMAC`, `requesterIP`), with `tags`
    /// mirrored from the request.
    /// - Precondition: `buffer.count` ≥ 42 + 4 × `tags.count`.
    @discardableResult
    public static func encodeReply(
        into buffer: UnsafeMutableRawBufferPointer,
        from mac: MACAddress,
        vip: IPv4Address,
        to requesterMAC: MACAddress,
        requesterIP: IPv4Address,
        tags: VLANTags = VLANTags()
    ) -> Int {
        ARPFrame(
            ethernet: EthernetHeader(destination: requesterMAC, source: mac, tags: tags, etherType: EtherType.arp),
            arp: ARPPacket(
                operation: .reply, senderMAC: mac, senderIP: vip, targetMAC: requesterMAC, targetIP: requesterIP)
        ).encode(into: buffer)
    }

    /// A gratuitous ARP request announcing `vip` at `mac`: Ethernet broadcast, opcode 1,
    /// sender IP = target IP = `vip`, target MAC `00:00:00:00:00:00`.
    /// - Precondition: `buffer.count` ≥ 42 + 4 × `tags.count`.
    @discardableResult
    public static func encodeGratuitousRequest(
        into buffer: UnsafeMutableRawBufferPointer,
        mac: MACAddress,
        vip: IPv4Address,
        tags: VLANTags = VLANTags()
    ) -> Int {
        ARPFrame(
            ethernet: EthernetHeader(destination: .broadcast, source: mac, tags: tags, etherType: EtherType.arp),
            arp: ARPPacket(operation: .request, senderMAC: mac, senderIP: vip, targetMAC: .zero, targetIP: vip)
        ).encode(into: buffer)
    }

    /// An RFC 5944 gratuitous ARP reply announcing `vip` at `mac`: Ethernet broadcast,
    /// opcode 2, sender IP = target IP = `vip`, target MAC = sender MAC = `mac`.
    /// - Precondition: `buffer.count` ≥ 42 + 4 × `tags.count`.
    @discardableResult
    public static func encodeGratuitousReply(
        into buffer: UnsafeMutableRawBufferPointer,
        mac: MACAddress,
        vip: IPv4Address,
        tags: VLANTags = VLANTags()
    ) -> Int {
        ARPFrame(
            ethernet: EthernetHeader(destination: .broadcast, source: mac, tags: tags, etherType: EtherType.arp),
            arp: ARPPacket(operation: .reply, senderMAC: mac, senderIP: vip, targetMAC: mac, targetIP: vip)
        ).encode(into: buffer)
    }
}

/// The same frames as ``ARPEncoder``, as new arrays: for the control plane, which sends
/// a handful of announcements per activation and may allocate.
public enum ARPFrames {
    /// A gratuitous ARP request for `vip` at `mac` (see ``ARPEncoder/encodeGratuitousRequest(into:mac:vip:tags:)``).
    public static func gratuitousRequest(mac: MACAddress, vip: IPv4Address, tags: VLANTags = VLANTags()) -> [UInt8] {
        build(tags: tags) { ARPEncoder.encodeGratuitousRequest(into: $0, mac: mac, vip: vip, tags: tags) }
    }

    /// An RFC 5944 gratuitous ARP reply for `vip` at `mac` (see ``ARPEncoder/encodeGratuitousReply(into:mac:vip:tags:)``).
    public static func gratuitousReply(mac: MACAddress, vip: IPv4Address, tags: VLANTags = VLANTags()) -> [UInt8] {
        build(tags: tags) { ARPEncoder.encodeGratuitousReply(into: $0, mac: mac, vip: vip, tags: tags) }
    }

    /// An ARP reply (see ``ARPEncoder/encodeReply(into:from:vip:to:requesterIP:tags:)``).
    public static func reply(
        from mac: MACAddress,
        vip: IPv4Address,
        to requesterMAC: MACAddress,
        requesterIP: IPv4Address,
        tags: VLANTags = VLANTags()
    ) -> [UInt8] {
        build(tags: tags) {
            ARPEncoder.encodeReply(into: $0, from: mac, vip: vip, to: requesterMAC, requesterIP: requesterIP, tags: tags)
        }
    }

    /// An RFC 5227 probe for `vip` from `mac`: a broadcast request with sender IP 0.0.0.0,
    /// which a host using `vip` answers without updating anyone's cache.
    public static func probe(mac: MACAddress, vip: IPv4Address) -> [UInt8] {
        ARPFrame(
            ethernet: EthernetHeader(destination: .broadcast, source: mac, tags: VLANTags(), etherType: EtherType.arp),
            arp: ARPPacket(operation: .request, senderMAC: mac, senderIP: .any, targetMAC: .zero, targetIP: vip)
        ).bytes
    }

    private static func build(tags: VLANTags, _ write: (UnsafeMutableRawBufferPointer) -> Int) -> [UInt8] {
        let length = EthernetHeader.untaggedLength + tags.byteCount + ARPPacket.length
        return [UInt8](unsafeUninitializedCapacity: length) { storage, initialized in
            initialized = write(UnsafeMutableRawBufferPointer(storage))
        }
    }
}
