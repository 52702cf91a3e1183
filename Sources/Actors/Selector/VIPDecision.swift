import ProxyARPCore
import ProxyARPStateMachines

/// What the selector decided for one VIP, numbered in the order it decided: a VIP's
/// machine takes a decision only if it is newer than the last it took, so decisions
/// overtaken in flight are harmless.
struct VIPDecision: Sendable {
    /// What was decided.
    enum Verdict: Sendable {
        /// Announce through this agent (from `pending`, or moving from another agent).
        case agent(Agent)
        /// The VIP's agent failed; it was taken off its proxy list and waits for its turn
        /// to announce through another.
        case agentLost(AdapterName)
        /// No adapter is eligible.
        case noAgent
        /// The VIP's agent is unchanged but its addresses changed: record its new local
        /// address (not a selection: the machine does not count it as a decision).
        case agentUpdated(Agent)
    }

    /// The VIP.
    var vip: IPAddress
    /// The selector's decision number (increasing across all VIPs).
    var number: UInt64
    /// What was decided.
    var verdict: Verdict

    /// The event that tells the VIP's machine, at `now`.
    func event(now: Instant) -> VIPActivationEvent {
        switch verdict {
        case .agent(let agent): .agentSelected(agent, decision: number, now: now)
        case .agentLost(let lost): .agentLost(lost, decision: number, now: now)
        case .noAgent: .noAgentAvailable(decision: number, now: now)
        case .agentUpdated(let agent): .agentAddressChanged(agent, now: now)
        }
    }
}
