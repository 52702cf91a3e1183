/// Writes the Neighbor Advertisements proxyarpd sends into a caller-provided buffer,
/// without allocating: Ethernet (untagged) → IPv6 (traffic class 0, flow label 0, hop
/// limit 255, no extension header) → ICMPv6 type 136 with its checksum computed, and
/// optionally the target link-layer address option. The layout is the kernel's, byte for
/// byte (Tests/Fixtures/linux-ndp.pcap).
public enum NDPEncoder {
    /// An advertisement with the target link-layer address option: 14 + 40 + 32 bytes.
    public static let maximumLength = EthernetHeader.untaggedLength + NDPParser.ipv6HeaderLength + 32

    /// Writes an advertisement of `target` at `mac` and returns its length (86 bytes with
    /// the target link-layer option, 78 without).
    /// - Precondition: `buffer.count` ≥ the length (``maximumLength`` always suffices).
    @discardableResult
    public static func encodeAdvertisement(
        into buffer: UnsafeMutableRawBufferPointer,
        from mac: MACAddress,
        source: IPv6Address,
        to destinationMAC: MACAddress,
        destination: IPv6Address,
        target: IPv6Address,
        flags: NDPAdvertisementFlags,
        includesTargetLinkLayerAddress: Bool
    ) -> Int {
        let messageLength = NDPParser.messageLength + (includesTargetLinkLayerAddress ? 8 : 0)
        let total = EthernetHeader.untaggedLength + NDPParser.ipv6HeaderLength + messageLength
        precondition(buffer.count >= total, "NDP frame buffer too small")
        buffer.storeMAC(destinationMAC, at: 0)
        buffer.storeMAC(mac, at: 6)
        buffer.storeUInt16BE(EtherType.ipv6, at: 12)
        let ip = EthernetHeader.untaggedLength
        buffer.storeUInt32BE(0x6000_0000, at: ip)  // version 6, traffic class 0, flow label 0
        buffer.storeUInt16BE(UInt16(messageLength), at: ip + 4)
        buffer[ip + 6] = 58
        buffer[ip + 7] = 255
        buffer.storeIPv6(source, at: ip + 8)
        buffer.storeIPv6(destination, at: ip + 24)
        let icmp = ip + NDPParser.ipv6HeaderLength
        buffer[icmp] = NDPParser.advertisementType
        buffer[icmp + 1] = 0
        buffer.storeUInt16BE(0, at: icmp + 2)
        buffer.storeUInt32BE(UInt32(flags.byte) << 24, at: icmp + 4)
        buffer.storeIPv6(target, at: icmp + 8)
        if includesTargetLinkLayerAddress {
            buffer[icmp + 24] = 2
            buffer[icmp + 25] = 1
            buffer.storeMAC(mac, at: icmp + 26)
        }
        let checksum = ICMPv6Checksum.compute(
            source: source, destination: destination,
            message: UnsafeRawBufferPointer(rebasing: buffer[icmp..<(icmp + messageLength)]))
        buffer.storeUInt16BE(checksum, at: icmp + 2)
        return total
    }
}

/// An advertisement the answer path decided to send: everything needed to write it, and
/// nothing that allocates.
public struct NDPAdvertisementPlan: Hashable, Sendable {
    /// The answering adapter's MAC: Ethernet source and target link-layer address.
    public let adapterMAC: MACAddress
    /// The VIP advertised: IPv6 source and target.
    public let vip: IPv6Address
    /// The Ethernet destination.
    public let destinationMAC: MACAddress
    /// The IPv6 destination: the solicitor, or `ff02::1` when defending against DAD.
    public let destination: IPv6Address
    /// S, O (R is never set: a VIP is not a router).
    public let flags: NDPAdvertisementFlags
    /// Whether the target link-layer address option is carried.
    public let includesTargetLinkLayerAddress: Bool

    /// Creates a plan.
    public init(
        adapterMAC: MACAddress, vip: IPv6Address, destinationMAC: MACAddress, destination: IPv6Address,
        flags: NDPAdvertisementFlags, includesTargetLinkLayerAddress: Bool
    ) {
        self.adapterMAC = adapterMAC
        self.vip = vip
        self.destinationMAC = destinationMAC
        self.destination = destination
        self.flags = flags
        self.includesTargetLinkLayerAddress = includesTargetLinkLayerAddress
    }

    /// Bytes the advertisement occupies: 86 with the option, 78 without.
    public var length: Int { NDPEncoder.maximumLength - (includesTargetLinkLayerAddress ? 0 : 8) }

    /// Writes the advertisement into `buffer` and returns its length. Never allocates.
    /// - Precondition: `buffer.count >= length`.
    @discardableResult
    public func encode(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        NDPEncoder.encodeAdvertisement(
            into: buffer, from: adapterMAC, source: vip, to: destinationMAC, destination: destination, target: vip,
            flags: flags, includesTargetLinkLayerAddress: includesTargetLinkLayerAddress)
    }

    /// The advertisement as a new array (tests and control plane).
    public var bytes: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: length) { storage, initialized in
            initialized = encode(into: UnsafeMutableRawBufferPointer(storage))
        }
    }
}

/// The NDP frames the control plane sends, as new arrays.
public enum NDPFrames {
    /// An unsolicited advertisement announcing `vip` at `mac` (RFC 4861 §7.2.6): to
    /// ff02::1 (33:33:00:00:00:01), S=0, O=1, with the target link-layer address option.
    public static func unsolicitedAdvertisement(mac: MACAddress, vip: IPv6Address) -> [UInt8] {
        NDPAdvertisementPlan(
            adapterMAC: mac, vip: vip, destinationMAC: IPv6Address.allNodes.multicastMAC, destination: .allNodes,
            flags: NDPAdvertisementFlags(solicited: false, override: true), includesTargetLinkLayerAddress: true
        ).bytes
    }
}
