import ProxyARPCore

// Agent selection: which adapter answers for which VIP. A pure value.
//
//   candidateChanged(c)      -> record the candidate (addresses, MAC, eligibility)
//   candidateRemoved(name)   -> forget it (its VIPs are released by the caller first)
//   select(vip, excluding)   -> best eligible candidate not excluded, by AgentRank;
//                               the assignment is recorded (load + 1); or no agent
//   release(vip)             -> drop the assignment (load - 1)
//   preemptionTarget(vip)    -> for `preempt: true` VIPs, a candidate that outranks the
//                               current agent on subnet or preference (never on load)
//
// Sticky: select is asked only for VIPs without a healthy agent, so a better adapter
// appearing moves nothing unless the VIP preempts. There are no invalid events: an
// unknown name or VIP is a no-op with a `.none`-like result.

/// The selector's knowledge: candidates, assignments, load.
public struct AgentSelection: Sendable, Equatable {
    /// The result of a selection.
    public enum Choice: Sendable, Equatable, CustomStringConvertible {
        /// This candidate, ranked so.
        case agent(AgentCandidate, rank: AgentRank)
        /// No eligible candidate.
        case noAgent

        /// Text used by the trace.
        public var description: String {
            switch self {
            case .agent(let candidate, let rank): "agent(\(candidate.name) \(rank))"
            case .noAgent: "noAgent"
            }
        }
    }

    /// Every known candidate by name.
    public private(set) var candidates: [AdapterName: AgentCandidate] = [:]
    /// The agent of every assigned VIP.
    public private(set) var assignments: [IPv4Address: AdapterName] = [:]
    /// The VIPs each adapter serves.
    public private(set) var members: [AdapterName: Set<IPv4Address>] = [:]
    /// Adapters known, from what their captures heard, to share an L2 segment.
    public private(set) var segmentPeers: [AdapterName: Set<AdapterName>] = [:]

    /// Creates an empty selection.
    public init() {}

    /// VIPs served by `adapter`.
    public func load(of adapter: AdapterName) -> Int { members[adapter]?.count ?? 0 }

    /// Records a candidate's current addresses and eligibility.
    public mutating func candidateChanged(_ candidate: AgentCandidate) {
        candidates[candidate.name] = candidate
    }

    /// Forgets a candidate. Its assignments are released.
    public mutating func candidateRemoved(_ name: AdapterName) {
        for vip in members[name] ?? [] { assignments[vip] = nil }
        members[name] = nil
        candidates[name] = nil
    }

    /// Notes that `listener`'s capture heard a frame `speaker` sent.
    public mutating func learnSegment(_ listener: AdapterName, heard speaker: AdapterName) {
        guard listener != speaker else { return }
        segmentPeers[listener, default: []].insert(speaker)
        segmentPeers[speaker, default: []].insert(listener)
    }

    /// How `agent`'s announcements must be confirmed: by a sibling when another adapter
    /// with its link up is expected on its segment (same subnet, or heard there before).
    /// Such an adapter need not be eligible: one in hold-down still hears the segment, and
    /// counting it keeps a cut-off agent from confirming itself by a mere transmit.
    public func confirmationPolicy(for agent: AdapterName) -> ConfirmationPolicy {
        guard let candidate = candidates[agent] else { return .transmit }
        let subnets = Set(candidate.interfaces.map(\.subnet))
        let peers = segmentPeers[agent] ?? []
        let hasSibling = candidates.values.contains { other in
            other.name != agent && other.linkUp
                && (peers.contains(other.name) || other.interfaces.contains { subnets.contains($0.subnet) })
        }
        return hasSibling ? .sibling : .transmit
    }

    /// How `candidate` ranks for `vip`.
    public func rank(_ candidate: AgentCandidate, for vip: VIPConfiguration) -> AgentRank {
        AgentRank(
            subnet: candidate.interface(containing: vip.address) == nil ? 1 : 0,
            preference: vip.preferred.firstIndex(of: candidate.name) ?? .max,
            load: load(of: candidate.name),
            name: candidate.name
        )
    }

    /// Chooses the best eligible candidate for `vip`, not in `excluding`, and records the
    /// assignment. A VIP already assigned is released first.
    public mutating func select(_ vip: VIPConfiguration, excluding: Set<AdapterName> = []) -> Choice {
        release(vip.address)
        var best: (AgentCandidate, AgentRank)?
        for candidate in candidates.values where candidate.eligible && !excluding.contains(candidate.name) {
            let rank = rank(candidate, for: vip)
            if best == nil || rank < best!.1 { best = (candidate, rank) }
        }
        guard let (candidate, rank) = best else { return .noAgent }
        assignments[vip.address] = candidate.name
        members[candidate.name, default: []].insert(vip.address)
        return .agent(candidate, rank: rank)
    }

    /// Drops `vip`'s assignment, if any.
    public mutating func release(_ vip: IPv4Address) {
        guard let agent = assignments.removeValue(forKey: vip) else { return }
        members[agent]?.remove(vip)
    }

    /// For a `preempt` VIP: an eligible candidate that outranks its current agent on
    /// subnet or preference. Nil when none, or when the VIP does not preempt.
    public func preemptionTarget(for vip: VIPConfiguration) -> AgentCandidate? {
        guard vip.preempt, let current = assignments[vip.address], let agent = candidates[current] else { return nil }
        let currentRank = rank(agent, for: vip)
        var best: (AgentCandidate, AgentRank)?
        for candidate in candidates.values where candidate.eligible && candidate.name != current {
            let rank = rank(candidate, for: vip)
            guard rank.outranksForPreemption(currentRank) else { continue }
            if best == nil || rank < best!.1 { best = (candidate, rank) }
        }
        return best?.0
    }
}
