/// The kind of a Neighbor Discovery message proxyarpd reads (RFC 4861 §4.3, §4.4).
public enum NDPMessage: Hashable, Sendable {
    /// ICMPv6 type 135: who has the target address?
    case solicitation
    /// ICMPv6 type 136, with its flags.
    case advertisement(NDPAdvertisementFlags)
}

/// The three flags of a Neighbor Advertisement.
public struct NDPAdvertisementFlags: Hashable, Sendable {
    /// R: the sender is a router.
    public var router: Bool
    /// S: sent in response to a solicitation.
    public var solicited: Bool
    /// O: the advertisement overrides an existing cache entry.
    public var override: Bool

    /// Creates flags.
    public init(router: Bool = false, solicited: Bool, override: Bool) {
        self.router = router
        self.solicited = solicited
        self.override = override
    }

    /// The flags as the first byte of the reserved word (R 0x80, S 0x40, O 0x20).
    public var byte: UInt8 {
        (router ? 0x80 : 0) | (solicited ? 0x40 : 0) | (override ? 0x20 : 0)
    }

    /// Flags read from the first byte of the reserved word.
    public init(byte: UInt8) {
        self.init(router: byte & 0x80 != 0, solicited: byte & 0x40 != 0, override: byte & 0x20 != 0)
    }
}

/// A parsed, well-formed Neighbor Solicitation or Advertisement over Ethernet (RFC 4861
/// §7.1 validity checks passed, checksum verified). A plain value: building one from a
/// buffer allocates nothing.
public struct NDPFrame: Hashable, Sendable {
    /// The Ethernet header, tags included.
    public var ethernet: EthernetHeader
    /// The IPv6 source; `::` for a Duplicate Address Detection probe.
    public var source: IPv6Address
    /// The IPv6 destination.
    public var destination: IPv6Address
    /// Solicitation or advertisement.
    public var message: NDPMessage
    /// The target address: the one solicited, or the one advertised.
    public var target: IPv6Address
    /// The source link-layer address option of a solicitation, or the target link-layer
    /// address option of an advertisement, when present.
    public var linkLayerAddress: MACAddress?

    /// Creates a frame from its parts.
    public init(
        ethernet: EthernetHeader, source: IPv6Address, destination: IPv6Address, message: NDPMessage,
        target: IPv6Address, linkLayerAddress: MACAddress?
    ) {
        self.ethernet = ethernet
        self.source = source
        self.destination = destination
        self.message = message
        self.target = target
        self.linkLayerAddress = linkLayerAddress
    }

    /// True for a Duplicate Address Detection probe: a solicitation from `::`.
    public var isDuplicateAddressProbe: Bool { message == .solicitation && source.isUnspecified }
}
