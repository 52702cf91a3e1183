/// What kind of ARP packet an ``ARPFrame`` is. The first rule that matches wins, in the
/// order of the cases below.
public enum ARPFrameKind: Hashable, Sendable, CaseIterable {
    /// Opcode 1 with sender IP `0.0.0.0`: an RFC 5227 address probe.
    case probe
    /// Opcode 1 with sender IP equal to target IP: a gratuitous request (announcement).
    case gratuitousRequest
    /// Opcode 1 whose Ethernet destination is not broadcast (e.g. a neighbour cache refresh).
    case unicastRequest
    /// Any other opcode 1: an ordinary broadcast request.
    case request
    /// Opcode 2 with sender IP equal to target IP and target MAC equal to the sender MAC
    /// (RFC 5944) or broadcast: a gratuitous reply.
    case gratuitousReply
    /// Any other opcode 2.
    case reply
}

/// The classification of any Ethernet frame by the ARP codec.
public enum FrameClassification: Hashable, Sendable {
    /// A broadcast ARP request.
    case request
    /// A non-gratuitous ARP reply.
    case reply
    /// A gratuitous ARP request (sender IP == target IP).
    case gratuitousRequest
    /// A gratuitous ARP reply (sender IP == target IP, target MAC == sender MAC or broadcast).
    case gratuitousReply
    /// An RFC 5227 probe (opcode 1, sender IP 0.0.0.0).
    case probe
    /// An ARP request sent to a unicast (non-broadcast) Ethernet destination.
    case unicastRequest
    /// A well-formed Ethernet frame of another type (after any VLAN tags), e.g. IPv6.
    case notARP(etherType: UInt16)
    /// A frame that cannot be used, and why.
    case malformed(MalformedFrameReason)

    /// The classification of an ARP frame of `kind`.
    public init(_ kind: ARPFrameKind) {
        switch kind {
        case .probe: self = .probe
        case .gratuitousRequest: self = .gratuitousRequest
        case .unicastRequest: self = .unicastRequest
        case .request: self = .request
        case .gratuitousReply: self = .gratuitousReply
        case .reply: self = .reply
        }
    }
}
