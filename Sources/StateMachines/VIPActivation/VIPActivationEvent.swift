import ProxyARPCore

/// Every event the VIP activation machine accepts, as a value: what the trace records
/// and what a replay feeds back into a fresh machine.
public enum VIPActivationEvent: Sendable, Equatable, Codable {
    /// The selector chose `agent`.
    case agentSelected(Agent, now: Instant)
    /// The selector found no eligible adapter.
    case noAgentAvailable(now: Instant)
    /// A gratuitous ARP for this VIP from one of our MACs was heard on `adapter`.
    case announcementSeen(on: AdapterName, mac: MACAddress, now: Instant)
    /// A round of announcements through `agent` left the host without error.
    case announcementTransmitted(agent: AdapterName, epoch: UInt64, now: Instant)
    /// A timer fired.
    case timerFired(VIPTimerID, now: Instant)
    /// The actor finished publishing and binding the outbound path to `agent`.
    case outboundPathBound(agent: AdapterName, epoch: UInt64, now: Instant)
    /// The agent's adapter stopped being eligible.
    case agentLost(now: Instant)
    /// The configuration no longer has this VIP.
    case withdraw(now: Instant)

    /// The event's name, for logs and metrics.
    public var name: String {
        switch self {
        case .agentSelected: "agentSelected"
        case .noAgentAvailable: "noAgentAvailable"
        case .announcementSeen: "announcementSeen"
        case .announcementTransmitted: "announcementTransmitted"
        case .timerFired(let id, _): "\(id.kind.rawValue)TimerFired"
        case .outboundPathBound: "outboundPathBound"
        case .agentLost: "agentLost"
        case .withdraw: "withdraw"
        }
    }
}
