/// Something the answer path saw on the wire that the control plane must hear about.
public enum ARPObservation: Sendable, Hashable {
    /// A gratuitous ARP (either form) for one of our VIPs from one of our own MACs:
    /// the confirmation that an announcement went out (ARCHITECTURE.md §1, step 4).
    case ownAnnouncement(vip: IPv4Address, mac: MACAddress)
    /// A gratuitous ARP or an ARP reply from a MAC that is not ours, claiming one of
    /// our VIPs: an address conflict.
    case conflict(vip: IPv4Address, claimedBy: MACAddress)
    /// An RFC 5227 probe (sender IP 0.0.0.0) for one of our VIPs.
    case probe(vip: IPv4Address, from: MACAddress)

    /// The VIP the observation is about.
    public var vip: IPv4Address {
        switch self {
        case .ownAnnouncement(let vip, _), .conflict(let vip, _), .probe(let vip, _): vip
        }
    }
}

/// What the answer path saw about one VIP, whatever its family: an ``ARPObservation`` or an
/// ``NDPObservation`` as the control plane hears it (the per-frame paths keep their own
/// per-family types; the conversion happens once per observation, which is rare).
public enum VIPObservation: Sendable, Hashable {
    /// Our own announcement (gratuitous ARP or unsolicited advertisement) from one of our MACs.
    case ownAnnouncement(vip: IPAddress, mac: MACAddress)
    /// Another MAC claims one of our VIPs: an address conflict.
    case conflict(vip: IPAddress, claimedBy: MACAddress)
    /// A probe (RFC 5227, or a Duplicate Address Detection probe) for one of our VIPs.
    case probe(vip: IPAddress, from: MACAddress)

    /// The VIP the observation is about.
    public var vip: IPAddress {
        switch self {
        case .ownAnnouncement(let vip, _), .conflict(let vip, _), .probe(let vip, _): vip
        }
    }

    /// The family-blind form of an ARP observation.
    public init(_ observation: ARPObservation) {
        switch observation {
        case .ownAnnouncement(let vip, let mac): self = .ownAnnouncement(vip: .v4(vip), mac: mac)
        case .conflict(let vip, let mac): self = .conflict(vip: .v4(vip), claimedBy: mac)
        case .probe(let vip, let mac): self = .probe(vip: .v4(vip), from: mac)
        }
    }

    /// The family-blind form of a Neighbor Discovery observation.
    public init(_ observation: NDPObservation) {
        switch observation {
        case .ownAnnouncement(let vip, let mac): self = .ownAnnouncement(vip: .v6(vip), mac: mac)
        case .conflict(let vip, let mac): self = .conflict(vip: .v6(vip), claimedBy: mac)
        case .probe(let vip, let mac): self = .probe(vip: .v6(vip), from: mac)
        }
    }
}

/// A ``VIPObservation`` with where and when it was heard.
public struct HeardObservation: Sendable, Hashable {
    /// What was seen.
    public let observation: VIPObservation
    /// The adapter whose capture saw it.
    public let adapter: AdapterName
    /// Monotonic time of the batch that carried it, in nanoseconds.
    public let at: Instant

    /// Creates a heard observation.
    public init(observation: VIPObservation, adapter: AdapterName, at: Instant) {
        self.observation = observation
        self.adapter = adapter
        self.at = at
    }

    /// Creates a heard observation from an ARP one.
    public init(observation: ARPObservation, adapter: AdapterName, at: Instant) {
        self.init(observation: VIPObservation(observation), adapter: adapter, at: at)
    }

    /// Creates a heard observation from a Neighbor Discovery one.
    public init(observation: NDPObservation, adapter: AdapterName, at: Instant) {
        self.init(observation: VIPObservation(observation), adapter: adapter, at: at)
    }
}
