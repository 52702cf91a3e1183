import Logging
import ProxyARPCore
import ProxyARPStateMachines

/// Owns the agent selection and the proxy lists, and publishes the answer table.
///
/// Adapters report eligibility here; VIPs ask here for agents and publish or withdraw
/// themselves here. When an adapter fails, its whole proxy list is withdrawn in one
/// table before its VIPs are told, so no reply goes out for them from the dead agent.
public actor SelectorActor {
    private let environment: EngineEnvironment
    private let directory: ActorDirectory
    private var selection = AgentSelection()
    private var proxyLists: [AdapterName: AddressSet] = [:]
    private var watched = AddressSet()
    private var awaiting = AddressSet()
    private var waiting: Set<IPv4Address> = []
    /// The configurations of the VIPs that preempt (the only ones whose settings the
    /// selector needs after selection; the others are not kept, which saves megabytes at
    /// 100,000 VIPs).
    private var preempting: [IPv4Address: VIPConfiguration] = [:]
    private var generation: UInt64 = 0
    private var preemptDelay: Duration
    private var preemptChecks: [IPv4Address: Task<Void, Never>] = [:]

    /// Creates the selector.
    public init(environment: EngineEnvironment, directory: ActorDirectory, preemptDelay: Duration) {
        self.environment = environment
        self.directory = directory
        self.preemptDelay = preemptDelay
    }

    /// Groups VIPs in aligned blocks of `blockPrefixLength` (see
    /// ``AgentSelection/blockPrefixLength``); traced only when it is not the default 32.
    func groupVIPs(blockPrefixLength: Int) {
        guard blockPrefixLength != selection.blockPrefixLength else { return }
        trace(.blockPrefixLength(blockPrefixLength))
    }

    // MARK: VIPs

    /// Starts watching `vip` (its announcements are observed from now on).
    func watch(_ config: VIPConfiguration) {
        remember(config)
        if watched.insert(config.address) { publish() }
    }

    private func remember(_ config: VIPConfiguration) {
        preempting[config.address] = config.preempt ? config : nil
    }

    /// Starts watching many VIPs with one published table.
    func watch(all newConfigs: [VIPConfiguration]) {
        for config in newConfigs {
            remember(config)
            watched.insert(config.address)
        }
        publish()
    }

    /// Stops watching `vip` and forgets its assignment.
    func unwatch(_ vip: IPv4Address) {
        preempting[vip] = nil
        watched.remove(vip)
        awaiting.remove(vip)
        waiting.remove(vip)
        preemptChecks.removeValue(forKey: vip)?.cancel()
        trace(.release(vip))
        publish()
    }

    /// Updates a VIP's preferences without moving it.
    func update(_ config: VIPConfiguration) {
        remember(config)
    }

    /// Chooses an agent for `config`, or nil (the VIP then waits for an adapter).
    func select(_ config: VIPConfiguration, excluding: Set<AdapterName>) -> Agent? {
        let choice = tracedSelect(config, excluding: excluding)
        guard case .agent(let candidate, _) = choice else {
            waiting.insert(config.address)
            return nil
        }
        waiting.remove(config.address)
        return agent(for: config.address, candidate: candidate)
    }

    /// Forgets `vip`'s assignment (withdrawn or failed).
    func release(_ vip: IPv4Address) {
        waiting.remove(vip)
        trace(.release(vip))
    }

    /// Puts `vip` on `agent`'s proxy list and publishes the table (step 5).
    func enqueue(_ vip: IPv4Address, on agent: AdapterName) {
        proxyLists[agent, default: []].insert(vip)
        awaiting.remove(vip)
        publish()
    }

    /// From now on the answer path reports our own announcements for `vip`.
    func awaitConfirmation(_ vip: IPv4Address) {
        if awaiting.insert(vip) { publish() }
    }

    /// Our own announcements for `vip` are no longer reported.
    func stopAwaitingConfirmation(_ vip: IPv4Address) {
        if awaiting.remove(vip) { publish() }
    }

    /// Takes `vip` off `agent`'s proxy list and publishes the table.
    func withdraw(_ vip: IPv4Address, from agent: AdapterName) {
        guard proxyLists[agent]?.remove(vip) != nil else { return }
        publish()
    }

    // MARK: Adapters

    /// An adapter's addresses, MAC or eligibility changed.
    func candidateChanged(_ candidate: AgentCandidate) async {
        let wasEligible = selection.candidates[candidate.name]?.eligible ?? false
        directory.setMAC(candidate.mac, of: candidate.name)
        trace(.candidateChanged(candidate))
        publish()
        if wasEligible && !candidate.eligible {
            await agentFailed(candidate.name)
        } else if !wasEligible && candidate.eligible {
            await agentAppeared(candidate.name)
        }
    }

    /// An adapter disappeared.
    func candidateRemoved(_ name: AdapterName) async {
        let wasEligible = selection.candidates[name]?.eligible ?? false
        if wasEligible { await agentFailed(name) }
        trace(.candidateRemoved(name))
        proxyLists[name] = nil
        publish()
    }

    /// `listener`'s capture heard a frame from `speaker`: they share a segment.
    func learnSegment(_ listener: AdapterName, heard speaker: AdapterName) {
        guard listener != speaker, !(selection.segmentPeers[listener]?.contains(speaker) ?? false) else { return }
        trace(.learnSegment(listener: listener, speaker: speaker))
    }

    /// VIPs on each adapter's proxy list.
    func proxyListCounts() -> [AdapterName: Int] { proxyLists.mapValues(\.count) }

    private func agentFailed(_ name: AdapterName) async {
        let affected = selection.members[name] ?? []
        if proxyLists[name]?.isEmpty == false {
            proxyLists[name] = []
            publish()
        }
        environment.logger.info(
            "agent lost, moving its VIPs",
            metadata: ["adapter": "\(name)", "vips": "\(affected.count)"]
        )
        await forEachConcurrently(affected.compactMap { directory.vip($0) }) { await $0.agentLost() }
    }

    private func agentAppeared(_ name: AdapterName) async {
        await forEachConcurrently(waiting.compactMap { directory.vip($0) }) { await $0.retrySelection() }
        schedulePreemptionChecks()
    }

    private func schedulePreemptionChecks() {
        for config in preempting.values where selection.preemptionTarget(for: config) != nil {
            guard preemptChecks[config.address] == nil else { continue }
            let clock = environment.clock
            let deadline = clock.now().advanced(by: preemptDelay)
            preemptChecks[config.address] = Task { [weak self] in
                do { try await clock.sleep(until: deadline) } catch { return }
                await self?.preemptIfStillBetter(config.address)
            }
        }
    }

    private func preemptIfStillBetter(_ vip: IPv4Address) async {
        preemptChecks[vip] = nil
        guard let config = preempting[vip], let target = selection.preemptionTarget(for: config),
            let actor = directory.vip(vip)
        else { return }
        let choice = tracedSelect(config, excluding: [])
        guard case .agent(let candidate, _) = choice, candidate.name == target.name else { return }
        environment.logger.info("preempting", metadata: ["vip": "\(vip)", "to": "\(target.name)"])
        await actor.preempt(to: agent(for: vip, candidate: candidate))
    }

    // MARK: Helpers

    private func agent(for vip: IPv4Address, candidate: AgentCandidate) -> Agent {
        Agent(
            name: candidate.name, mac: candidate.mac, localAddress: candidate.localAddress(for: vip),
            confirmation: selection.confirmationPolicy(for: candidate.name)
        )
    }

    /// Applies `event` to the selection and records the transition.
    @discardableResult
    private func trace(_ event: SelectionEvent) -> String {
        let from = selection.summary
        let result = selection.apply(event)
        environment.trace.record(
            .selector, event: .selection(event), at: environment.clock.now(), from: from, to: selection.summary,
            action: result
        )
        return result
    }

    /// Selects for `config` and records the transition with the same text a replay gives.
    private func tracedSelect(_ config: VIPConfiguration, excluding: Set<AdapterName>) -> AgentSelection.Choice {
        let from = selection.summary
        let choice = selection.select(config, excluding: excluding)
        let event = SelectionEvent.select(
            vip: config.address, preferred: config.preferred, preempt: config.preempt, excluding: excluding.sorted()
        )
        environment.trace.record(
            .selector, event: .selection(event), at: environment.clock.now(), from: from, to: selection.summary,
            action: choice.description
        )
        return choice
    }

    private func publish() {
        generation += 1
        var lists: [AdapterName: ProxyList] = [:]
        for (name, vips) in proxyLists where !vips.isEmpty {
            guard let mac = selection.candidates[name]?.mac else { continue }
            lists[name] = ProxyList(agentMAC: mac, vips: vips)
        }
        let macs = Set(selection.candidates.values.map(\.mac))
        environment.io.answerTable.publish(
            AnswerTable(
                generation: generation, proxyLists: lists, watchedVIPs: watched, ownMACs: macs,
                awaitingConfirmation: awaiting
            )
        )
    }
}
