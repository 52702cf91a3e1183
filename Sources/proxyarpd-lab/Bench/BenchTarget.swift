import ProxyARPCore

/// What one bench ladder asks for, and which replies it counts.
enum BenchTarget: Sendable, CustomStringConvertible {
    /// Broadcast ARP requests for the address; ARP replies from it to the client counted.
    case arp(IPv4Address)
    /// Neighbor Solicitations for the address to its solicited-node group; solicited
    /// advertisements of it to the client counted, from `responder` only when given.
    case ndp(IPv6Address, responder: MACAddress?)

    /// The address asked for.
    var description: String {
        switch self {
        case .arp(let address): address.description
        case .ndp(let address, _): address.description
        }
    }
}
