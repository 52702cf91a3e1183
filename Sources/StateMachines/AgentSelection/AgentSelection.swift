import ProxyARPCore

// Agent selection: which adapter answers for which VIP. A pure value.
//
//   candidateChanged(c)      -> record the candidate (addresses, MAC, eligibility)
//   candidateRemoved(name)   -> forget it (its VIPs are released by the caller first)
//   select(vip, excluding, previous)
//                            -> best eligible candidate not excluded, by AgentRank
//                               (subnet, preference, previous agent, block, load, name); when
//                               no eligible one is left, the best last resort (held down by
//                               flap damping alone, link up: subnet, preference, earliest end
//                               of hold-down, then as above); the assignment is recorded
//                               (load + 1); or no agent
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
    /// Every assigned VIP's agent, built from ``members`` (O(VIPs): for tests and
    /// inspection; ``agent(of:)`` answers for one VIP). Not stored twice: at 100,000 VIPs
    /// a second map would cost megabytes.
    public var assignments: [IPAddress: AdapterName] {
        var result: [IPAddress: AdapterName] = [:]
        for (agent, vips) in members { for vip in vips { result[vip] = agent } }
        return result
    }

    /// The agent `vip` is assigned to, if any (a look-up in each adapter's set).
    public func agent(of vip: IPAddress) -> AdapterName? {
        members.first { $0.value.contains(vip) }?.key
    }
    /// The VIPs each adapter serves.
    public private(set) var members: [AdapterName: Set<IPAddress>] = [:]
    /// Adapters known, from what their captures heard, to share an L2 segment.
    public private(set) var segmentPeers: [AdapterName: Set<AdapterName>] = [:]
    /// VIPs are grouped in aligned blocks of this prefix length: after the subnet and
    /// preference rules, a VIP goes to an agent that already serves another VIP of its
    /// block, so the kernel needs one policy rule per block run, not per VIP. 32 (the
    /// default) makes every VIP its own block: plain load balancing.
    public private(set) var blockPrefixLength: Int
    /// For each block (by its network address) with assigned VIPs: how many each agent serves.
    private var blockAgents: [IPv4Address: [AdapterName: Int]] = [:]

    /// Creates an empty selection grouping VIPs in blocks of `blockPrefixLength` (0...32).
    public init(blockPrefixLength: Int = 32) {
        precondition((0...32).contains(blockPrefixLength), "block prefix length \(blockPrefixLength) out of 0...32")
        self.blockPrefixLength = blockPrefixLength
    }

    /// Changes the block size; recomputes the block counts of the current assignments.
    public mutating func setBlockPrefixLength(_ prefixLength: Int) {
        precondition((0...32).contains(prefixLength), "block prefix length \(prefixLength) out of 0...32")
        blockPrefixLength = prefixLength
        blockAgents = [:]
        for (agent, vips) in members { for vip in vips { countInBlock(vip, agent, by: 1) } }
    }

    /// The network address of `vip`'s block; nil for an IPv6 VIP (blocks group IPv4 VIPs:
    /// each IPv6 VIP is bound alone).
    private func blockKey(of vip: IPAddress) -> IPv4Address? {
        guard case .v4(let address) = vip else { return nil }
        return IPv4Subnet.block(containing: address, prefixLength: blockPrefixLength).network
    }

    private mutating func countInBlock(_ vip: IPAddress, _ agent: AdapterName, by delta: Int) {
        guard blockPrefixLength < 32, let key = blockKey(of: vip) else { return }
        let count = (blockAgents[key]?[agent] ?? 0) + delta
        blockAgents[key, default: [:]][agent] = count > 0 ? count : nil
        if blockAgents[key]?.isEmpty == true { blockAgents[key] = nil }
    }

    /// VIPs served by `adapter`.
    public func load(of adapter: AdapterName) -> Int { members[adapter]?.count ?? 0 }

    /// Records a candidate's current addresses and eligibility.
    public mutating func candidateChanged(_ candidate: AgentCandidate) {
        candidates[candidate.name] = candidate
    }

    /// Forgets a candidate. Its assignments are released.
    public mutating func candidateRemoved(_ name: AdapterName) {
        for vip in members[name] ?? [] { countInBlock(vip, name, by: -1) }
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
        let prefixes = candidate.ipv6Prefixes
        let peers = segmentPeers[agent] ?? []
        let hasSibling = candidates.values.contains { other in
            other.name != agent && other.linkUp
                && (peers.contains(other.name) || other.interfaces.contains { subnets.contains($0.subnet) }
                    || other.ipv6Prefixes.contains { mine in prefixes.contains { $0.length == mine.length && $0.contains(mine.address) } })
        }
        return hasSibling ? .sibling : .transmit
    }

    /// How `candidate` ranks for `vip`, whose previous agent (found at start) is `previous`.
    public func rank(_ candidate: AgentCandidate, for vip: VIPConfiguration, previous: AdapterName? = nil) -> AgentRank {
        rank(candidate, for: vip, previous: previous, planned: PlannedAssignments())
    }

    /// The rank with the assignments of a plan under way counted as if recorded.
    private func rank(
        _ candidate: AgentCandidate, for vip: VIPConfiguration, previous: AdapterName?, planned: PlannedAssignments
    ) -> AgentRank {
        AgentRank(
            subnet: candidate.isOnSubnet(of: vip.address) ? 0 : 1,
            preference: vip.preferred.firstIndex(of: candidate.name) ?? .max,
            previous: candidate.name == previous ? 0 : 1,
            block: servesBlock(of: vip.address, candidate.name) || planned.servesBlock(blockKey(of: vip.address), candidate.name) ? 0 : 1,
            load: load(of: candidate.name) + planned.load(of: candidate.name),
            name: candidate.name
        )
    }

    /// Whether `agent` serves a VIP other than `vip` in `vip`'s block.
    private func servesBlock(of vip: IPAddress, _ agent: AdapterName) -> Bool {
        guard blockPrefixLength < 32, let key = blockKey(of: vip), let count = blockAgents[key]?[agent] else { return false }
        return count > (members[agent]?.contains(vip) == true ? 1 : 0)
    }

    /// The candidate ``select(_:excluding:previous:)`` would choose for `vip` now, without
    /// recording anything (the adapter that probes for a VIP before its first activation).
    public func bestCandidate(for vip: VIPConfiguration) -> AgentCandidate? {
        best(for: vip, excluding: [], previous: nil)?.0
    }

    /// The best eligible candidate not in `excluding`; when there is none, the best last
    /// resort (see ``AgentCandidate/lastResortUntil``), ranked with its end of hold-down.
    private func best(
        for vip: VIPConfiguration, excluding: Set<AdapterName>, previous: AdapterName?,
        planned: PlannedAssignments = PlannedAssignments()
    ) -> (AgentCandidate, AgentRank)? {
        var best: (AgentCandidate, AgentRank)?
        for candidate in candidates.values where candidate.eligible && !excluding.contains(candidate.name) {
            let rank = rank(candidate, for: vip, previous: previous, planned: planned)
            if best == nil || rank < best!.1 { best = (candidate, rank) }
        }
        if best != nil { return best }
        for candidate in candidates.values where !excluding.contains(candidate.name) {
            guard let until = candidate.lastResortUntil else { continue }
            var rank = rank(candidate, for: vip, previous: previous, planned: planned)
            rank.lastResortUntil = until
            if best == nil || rank < best!.1 { best = (candidate, rank) }
        }
        return best
    }

    /// Chooses the best eligible candidate for `vip`, not in `excluding`, or when none is
    /// left the best last resort, and records the assignment; `previous` is the agent an
    /// earlier instance left it on (see ``AgentRank/previous``). A VIP already assigned is
    /// released first.
    public mutating func select(_ vip: VIPConfiguration, excluding: Set<AdapterName> = [], previous: AdapterName? = nil) -> Choice {
        release(vip.address)
        guard let (candidate, rank) = best(for: vip, excluding: excluding, previous: previous) else { return .noAgent }
        members[candidate.name, default: []].insert(vip.address)
        countInBlock(vip.address, candidate.name, by: 1)
        return .agent(candidate, rank: rank)
    }

    /// What the pass that moves `failed`'s VIPs when its link fails would choose for the
    /// first `limit` of them, in the order that pass takes them (``members``), recording
    /// nothing: the selector's ``StandbyPlan``. `failed` can no longer serve then, so it is
    /// never chosen; each planned VIP counts towards its new agent's load and block, as in
    /// the pass. `configuration` gives a VIP's preferences.
    public func failoverPlan(
        for failed: AdapterName, limit: Int, configuration: (IPAddress) -> VIPConfiguration
    ) -> [(vip: IPAddress, agent: AgentCandidate)] {
        var planned = PlannedAssignments()
        var plan: [(vip: IPAddress, agent: AgentCandidate)] = []
        for vip in (members[failed] ?? []).prefix(max(0, limit)) {
            guard let (candidate, _) = best(for: configuration(vip), excluding: [failed], previous: nil, planned: planned) else {
                continue
            }
            planned.assign(vip, blockKey: blockPrefixLength < 32 ? blockKey(of: vip) : nil, to: candidate.name)
            plan.append((vip, candidate))
        }
        return plan
    }

    /// Drops `vip`'s assignment, if any.
    public mutating func release(_ vip: IPAddress) {
        guard let agent = agent(of: vip) else { return }
        members[agent]?.remove(vip)
        countInBlock(vip, agent, by: -1)
    }

    /// For a `preempt` VIP: an eligible candidate that outranks its current agent on
    /// subnet or preference. Nil when none, or when the VIP does not preempt.
    public func preemptionTarget(for vip: VIPConfiguration) -> AgentCandidate? {
        guard vip.preempt, let current = agent(of: vip.address), let agent = candidates[current] else { return nil }
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

/// The assignments a failover plan has made so far, counted on top of the recorded ones.
private struct PlannedAssignments {
    private var loads: [AdapterName: Int] = [:]
    private var blocks: [IPv4Address: Set<AdapterName>] = [:]

    func load(of agent: AdapterName) -> Int { loads[agent] ?? 0 }

    func servesBlock(_ key: IPv4Address?, _ agent: AdapterName) -> Bool {
        guard let key else { return false }
        return blocks[key]?.contains(agent) ?? false
    }

    mutating func assign(_ vip: IPAddress, blockKey: IPv4Address?, to agent: AdapterName) {
        loads[agent, default: 0] += 1
        if let blockKey { blocks[blockKey, default: []].insert(agent) }
    }
}
