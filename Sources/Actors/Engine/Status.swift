import ProxyARPCore
import ProxyARPStateMachines

/// One VIP as `status` shows it.
public struct VIPStatus: Sendable, Equatable, Codable {
    /// The VIP.
    public var vip: IPAddress
    /// `pending`, `broadcast`, `enqueued`, `active`, `withdrawn` or `failed`.
    public var state: String
    /// State with detail, e.g. `pending(no eligible adapter)`.
    public var detail: String
    /// The agent adapter, if any.
    public var agent: AdapterName?
    /// The agent's MAC.
    public var agentMAC: MACAddress?
    /// The agent's local IPv4 address, recorded on activation.
    public var localAddress: IPv4Address?
    /// How the first round was confirmed, once confirmed.
    public var confirmation: String?
    /// Since when the VIP is in this state (monotonic).
    public var since: Instant
    /// Gratuitous ARP rounds sent (both forms each; retransmissions included) over the VIP's life.
    public var announcementsSent: Int
    /// Activations whose first round was confirmed (heard by a sibling, or transmitted
    /// where no sibling shares the segment). Later rounds are not tracked per VIP.
    public var announcementsConfirmed: Int
    /// Agent changes after the first activation.
    public var failovers: Int
    /// Set while another host keeps claiming the VIP (contested, or yielded).
    public var conflict: VIPConflictStatus?
    /// Foreign claims counted for this VIP since start.
    public var conflicts: Int
}

/// One adapter as `status` shows it.
public struct AdapterStatus: Sendable, Equatable, Codable {
    /// Kernel name.
    public var name: AdapterName
    /// Health state with detail.
    public var state: String
    /// Eligible to serve.
    public var eligible: Bool
    /// Has carrier.
    public var carrier: Bool
    /// Admin up.
    public var adminUp: Bool
    /// Hardware address.
    public var mac: MACAddress?
    /// VIPs on its proxy list.
    public var vipCount: Int
}

/// Another host's claim on a VIP, as `status` shows it.
public struct VIPConflictStatus: Sendable, Equatable, Codable {
    /// The claimant's MAC (the latest one).
    public var claimedBy: MACAddress
    /// Since when (monotonic, like ``VIPStatus/since``).
    public var since: Instant

    /// Creates the status.
    public init(claimedBy: MACAddress, since: Instant) {
        self.claimedBy = claimedBy
        self.since = since
    }
}
