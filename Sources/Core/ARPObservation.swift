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

/// An ``ARPObservation`` with where and when it was heard.
public struct HeardObservation: Sendable, Hashable {
    /// What was seen.
    public let observation: ARPObservation
    /// The adapter whose capture saw it.
    public let adapter: AdapterName
    /// Monotonic time of the batch that carried it, in nanoseconds.
    public let at: Instant

    /// Creates a heard observation.
    public init(observation: ARPObservation, adapter: AdapterName, at: Instant) {
        self.observation = observation
        self.adapter = adapter
        self.at = at
    }
}
