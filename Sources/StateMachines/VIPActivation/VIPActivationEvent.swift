import ProxyARPCore

/// Every event the VIP activation machine accepts, as a value: what the trace records
/// and what a replay feeds back into a fresh machine.
public enum VIPActivationEvent: Sendable, Equatable, Codable {
    /// The selector chose `agent` (its decision number `decision`).
    case agentSelected(Agent, decision: UInt64, now: Instant)
    /// The selector took the VIP off its failed agent `agent` and queued it for another.
    case agentLost(AdapterName, decision: UInt64, now: Instant)
    /// The selector found no eligible adapter.
    case noAgentAvailable(decision: UInt64, now: Instant)
    /// A gratuitous ARP for this VIP from one of our MACs was heard on `adapter`.
    case announcementSeen(on: AdapterName, mac: MACAddress, now: Instant)
    /// A round of announcements through `agent` left the host without error.
    case announcementTransmitted(agent: AdapterName, epoch: UInt64, now: Instant)
    /// A round-1 send through `agent` failed.
    case announcementNotSent(agent: AdapterName, epoch: UInt64, now: Instant)
    /// A timer fired.
    case timerFired(VIPTimerID, now: Instant)
    /// The actor finished publishing and binding the outbound path to `agent`.
    case outboundPathBound(agent: AdapterName, epoch: UInt64, now: Instant)
    /// Another host claims the VIP: a gratuitous ARP, a reply or a request with the VIP as
    /// sender address, from a MAC that is not ours.
    case claimSeen(by: MACAddress, now: Instant)
    /// Another host answered the probe sent before the VIP's first activation: it must not
    /// be claimed.
    case probeLost(now: Instant)
    /// The configuration no longer has this VIP, or the daemon stops; `keepLocalAddress`
    /// leaves it on `lo`.
    case withdraw(keepLocalAddress: Bool, now: Instant)
    /// The agent's addresses changed; `agent` is the same adapter with its new local
    /// address for this VIP.
    case agentAddressChanged(Agent, now: Instant)

    /// The event's name, for logs and metrics.
    public var name: String {
        switch self {
        case .agentSelected: "agentSelected"
        case .agentLost: "agentLost"
        case .noAgentAvailable: "noAgentAvailable"
        case .announcementSeen: "announcementSeen"
        case .announcementTransmitted: "announcementTransmitted"
        case .announcementNotSent: "announcementNotSent"
        case .timerFired(let id, _): "\(id.kind.rawValue)TimerFired"
        case .outboundPathBound: "outboundPathBound"
        case .claimSeen: "claimSeen"
        case .probeLost: "probeLost"
        case .withdraw: "withdraw"
        case .agentAddressChanged: "agentAddressChanged"
        }
    }
}
