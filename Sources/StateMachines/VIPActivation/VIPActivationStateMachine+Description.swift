import ProxyARPCore

extension VIPActivationStateMachine.State: CustomStringConvertible {
    /// The state's name: `pending`, `broadcast`, `enqueued`, `active`, `withdrawn`, `failed`.
    public var name: String {
        switch self {
        case .pending: "pending"
        case .broadcast: "broadcast"
        case .enqueued: "enqueued"
        case .active: "active"
        case .conflict: "conflict"
        case .withdrawn: "withdrawn"
        case .failed: "failed"
        }
    }

    /// The name with the fields an operator needs, e.g. `active(eth1 epoch 2)`.
    public var description: String {
        switch self {
        case .pending(let s): "pending(\(s.reason))"
        case .broadcast(let s): "broadcast(\(s.agent.name) epoch \(s.epoch) retx \(s.retransmissions))"
        case .enqueued(let s): "enqueued(\(s.agent.name) epoch \(s.epoch) \(s.confirmation))"
        case .active(let s): "active(\(s.agent.name) epoch \(s.epoch) rounds \(s.roundsSent))"
        case .conflict(let s): "conflict(claimed by \(s.claimedBy))"
        case .withdrawn: "withdrawn"
        case .failed(let s): "failed(\(s.error.event) in \(s.error.state))"
        }
    }

    /// The agent the VIP currently holds, if any.
    public var agent: Agent? {
        switch self {
        case .broadcast(let s): s.agent
        case .enqueued(let s): s.agent
        case .active(let s): s.agent
        case .pending, .conflict, .withdrawn, .failed: nil
        }
    }
}

extension PendingReason: CustomStringConvertible {
    /// Operator-facing text.
    public var description: String {
        switch self {
        case .awaitingSelection: "awaiting selection"
        case .noEligibleAdapter: "no eligible adapter"
        case .agentLost(let name): "agent \(name) lost"
        case .agentUnconfirmed(let name): "announcements via \(name) unconfirmed"
        }
    }
}

extension Confirmation: CustomStringConvertible {
    /// Operator-facing text.
    public var description: String {
        switch self {
        case .heardBySibling(let name): "heard by \(name)"
        case .outboundCopy: "outbound copy"
        case .transmitted: "transmitted"
        }
    }
}
