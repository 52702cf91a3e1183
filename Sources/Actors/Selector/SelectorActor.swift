import Logging
import ProxyARPCore
import ProxyARPStateMachines

/// Owns the agent selection, the proxy lists and the pace of announcements, and
/// publishes the answer table.
///
/// Every decision about which VIP gets which agent, and when, is made here, in one
/// synchronous pass over ``AgentSelection`` per input: an adapter failing, an adapter
/// appearing, VIPs admitted, a VIP's announcements unconfirmed, a permit given back.
/// A pass publishes one answer table, then posts its decisions to the VIPs through the
/// engine's mailbox without waiting for them (``VIPDecision``). No VIP asks and waits.
///
/// **Pacing.** At most ``permits`` VIPs announce at once (are in `broadcast`): a VIP holds
/// a permit from the decision that gives it an agent until it is published on the
/// agent's proxy list (``enqueue(_:on:)``), released, or found no agent. Those are the
/// VIPs whose own announcements the answer path reports (`awaitingConfirmation`). The
/// others wait in a FIFO queue, which holds addresses, not tasks: a family-blind
/// ``IPAddress`` is 24 bytes in an array, so 100,000 VIPs waiting cost about 2.4 MB.
///
/// IPv4 and IPv6 VIPs go through the same passes; the published table keeps each family
/// in its own structure (``AnswerTable`` for ARP, its ``IPv6AnswerTable`` for NDP).
public actor SelectorActor {
    /// VIPs announcing at once by default.
    public static let defaultPermits = 256

    private let environment: EngineEnvironment
    private let directory: ActorDirectory
    private let mailbox: EngineMailbox
    private let timers: EngineTimers
    private let permits: Int
    private var selection = AgentSelection()
    private var proxyLists: [AdapterName: VIPAddressSet] = [:]
    /// Configured VIPs: their announcements are observed.
    private var watched = VIPAddressSet()
    /// VIPs holding a permit (announcing, awaiting confirmation).
    private var announcing = VIPAddressSet()
    /// VIPs waiting for a permit, in order, and the agent each must not get.
    private var queue = FIFOQueue<IPAddress>()
    private var queued = VIPAddressSet()
    private var exclusions: [IPAddress: AdapterName] = [:]
    /// VIPs for which no adapter was eligible: retried when one becomes eligible.
    private var waiting: Set<IPAddress> = []
    /// Non-empty preferred lists and the VIPs that preempt: every other VIP's
    /// configuration is its address alone, so nothing more is kept for 100,000 VIPs.
    private var preferences: [IPAddress: [AdapterName]] = [:]
    private var preempting: Set<IPAddress> = []
    /// Agents found at start for VIPs not selected yet: each is used once, at the VIP's
    /// first selection.
    private var previousAgents: [IPAddress: AdapterName] = [:]
    private var preemptChecks: [IPAddress: UInt64] = [:]
    private var preemptDelay: Duration
    private var generation: UInt64 = 0
    private var decisionNumber: UInt64 = 0
    /// Decisions of the current pass, posted when it ends.
    private var decisions: [VIPDecision] = []
    private var tableChanged = false
    /// Enqueues waiting for the pass that publishes their changes.
    private var coalesced = CoalescedPublication()
    private var closed = false
    /// Held-down adapters serving as a last resort: one log line when each starts, one
    /// when it stops (not one per pass).
    private var lastResorts = LastResortEpisodes()
    /// A pass changed assignments since the standby plan was last published.
    private var standbyPlanStale = false
    /// A refresh of the standby plan is scheduled.
    private var standbyPlanScheduled = false

    /// How long after a pass that changed assignments the standby plan is recomputed: at
    /// most once per interval, however many passes an activation burst runs.
    static let standbyPlanInterval: Duration = .milliseconds(100)

    /// Creates the selector of the engine reading `mailbox`, allowing `permits` VIPs to
    /// announce at once (at least 1).
    init(
        environment: EngineEnvironment, directory: ActorDirectory, mailbox: EngineMailbox, timers: EngineTimers,
        preemptDelay: Duration, permits: Int = SelectorActor.defaultPermits
    ) {
        self.environment = environment
        self.directory = directory
        self.mailbox = mailbox
        self.timers = timers
        self.preemptDelay = preemptDelay
        self.permits = max(1, permits)
    }

    /// Groups VIPs in aligned blocks of `blockPrefixLength` (see
    /// ``AgentSelection/blockPrefixLength``); traced only when it is not the default 32.
    func groupVIPs(blockPrefixLength: Int) {
        guard blockPrefixLength != selection.blockPrefixLength else { return }
        trace(.blockPrefixLength(blockPrefixLength))
    }

    // MARK: VIPs

    /// New VIPs: watched from now on, and queued for their first agent in order. A VIP in
    /// `previousAgents` (its rule, found at start, binds it there) prefers that agent at its
    /// first selection (see ``AgentRank/previous``).
    func admit(_ configs: [VIPConfiguration], previousAgents: [IPAddress: AdapterName] = [:]) {
        self.previousAgents.merge(previousAgents) { _, new in new }
        for config in configs {
            remember(config)
            if watched.insert(config.address) { tableChanged = true }
            enqueueForPermit(config.address, excluding: nil)
        }
        grantPermits()
        endPass()
    }

    /// New VIPs that probe before their first activation: watched from now on (so claims
    /// for them are reported), not queued yet. Returns, per adapter that would serve them
    /// now, its MAC and the VIPs to probe through it.
    func watchForProbing(_ configs: [VIPConfiguration]) -> [AdapterName: (mac: MACAddress, vips: [IPAddress])] {
        var plan: [AdapterName: (mac: MACAddress, vips: [IPAddress])] = [:]
        for config in configs {
            remember(config)
            if watched.insert(config.address) { tableChanged = true }
            guard let candidate = selection.bestCandidate(for: configuration(of: config.address)) else { continue }
            plan[candidate.name, default: (candidate.mac, [])].vips.append(config.address)
        }
        endPass()
        return plan
    }

    /// A VIP's preferences changed: kept for its next selection; its agent stays.
    func update(_ config: VIPConfiguration) {
        remember(config)
    }

    /// `vip`'s announcements through `unusable` were never confirmed: another agent, now
    /// if it still holds its permit, else when its turn comes. Nothing when a pass already
    /// moved it off `unusable` (its health machine gave the adapter up first).
    func request(_ vip: IPAddress, excluding unusable: AdapterName) {
        guard watched.contains(vip), selection.agent(of: vip) == unusable else { return }
        if announcing.contains(vip) {
            decide(vip, excluding: [unusable])
        } else {
            enqueueForPermit(vip, excluding: unusable)
            grantPermits()
        }
        endPass()
    }

    /// Puts `vip` on `agent`'s proxy list (step 5) and takes its permit back, unless the
    /// selector moved or released it since (then nothing is published: false). Returns once
    /// a table with `vip` on the list is published.
    ///
    /// Unlike the other passes, this one does not publish on its own: the enqueues waiting
    /// in the selector's queue share one publication (``CoalescedPublication``), so an
    /// activation burst publishes a table per drain of the queue, not per VIP.
    func enqueue(_ vip: IPAddress, on agent: AdapterName) async -> Bool {
        guard watched.contains(vip), selection.agent(of: vip) == agent else { return false }
        if proxyLists[agent, default: []].insert(vip) { tableChanged = true }
        if announcing.remove(vip) { tableChanged = true }
        grantPermits()
        await withCheckedContinuation { waiter in
            if coalesced.wait(waiter) {
                Task { self.endPass() }  // behind the enqueues already in the queue
            }
        }
        return true
    }

    /// `vip` was withdrawn (or isolated after a bug): forget it everywhere.
    func release(_ vip: IPAddress) {
        if watched.remove(vip) { tableChanged = true }
        forget(vip)
        preferences[vip] = nil
        preempting.remove(vip)
        grantPermits()
        endPass()
    }

    /// Takes `vip` off every proxy list, its permit, its queue entry and its assignment.
    private func forget(_ vip: IPAddress) {
        if announcing.remove(vip) { tableChanged = true }
        for name in proxyLists.keys where proxyLists[name]?.contains(vip) == true {
            proxyLists[name]?.remove(vip)
            tableChanged = true
        }
        if queued.remove(vip) { exclusions[vip] = nil }  // its queue entry is skipped when reached
        waiting.remove(vip)
        if let token = preemptChecks.removeValue(forKey: vip) { timers.cancel(token) }
        trace(.release(vip))
    }

    /// `vip` yielded to another host that claims it: off every proxy list, no agent, no
    /// permit, not queued; still watched, so later claims are still seen.
    func yield(_ vip: IPAddress) {
        forget(vip)
        grantPermits()
        endPass()
    }

    /// The yielded `vip` heard no claim for a while: queued for an agent again.
    func rejoin(_ vip: IPAddress) {
        guard watched.contains(vip) else { return }
        enqueueForPermit(vip, excluding: nil)
        grantPermits()
        endPass()
    }

    // MARK: Adapters

    /// An adapter's addresses, MAC or eligibility changed: one pass moves every VIP it
    /// served (it failed) or retries the VIPs that had no agent (it appeared).
    ///
    /// "Serving" here means eligible or a last resort (``AgentCandidate/canServe``): a last
    /// resort whose link drops again fails like an eligible agent, and one that appears is
    /// offered the VIPs that wait for an agent.
    func candidateChanged(_ candidate: AgentCandidate) {
        let previous = selection.candidates[candidate.name]
        let wasEligible = previous?.eligible ?? false
        let couldServe = previous?.canServe ?? false
        directory.setMAC(candidate.mac, of: candidate.name)
        trace(.candidateChanged(candidate))
        tableChanged = true  // a MAC or the own-MAC set may have changed
        logLastResortEnd(
            candidate.name, isLastResort: candidate.lastResortUntil != nil,
            because: candidate.eligible ? "eligible" : candidate.linkUp ? "held down for another cause" : "link down")
        if couldServe && !candidate.canServe {
            agentFailed(candidate.name)
        } else if (!wasEligible && candidate.eligible) || (!couldServe && candidate.canServe) {
            agentAppeared()
        }
        endPass()
    }

    /// `name`'s addresses changed (its candidate was already updated): the VIPs it serves
    /// record their new local address, and preempting VIPs for which it is now a better
    /// agent (same subnet) get their check.
    func agentAddressesChanged(_ name: AdapterName) {
        guard let candidate = selection.candidates[name] else { return }
        for vip in (selection.members[name] ?? []).sorted() {
            post(vip, .agentUpdated(agent(for: vip, candidate: candidate)))
        }
        schedulePreemptionChecks()
        endPass()
    }

    /// An adapter disappeared: its VIPs move in this pass (it is made ineligible first, so
    /// that the pass cannot pick it again), then it is forgotten.
    func candidateRemoved(_ name: AdapterName) {
        if var candidate = selection.candidates[name], candidate.canServe {
            candidate.eligible = false
            candidate.linkUp = false
            candidate.lastResortUntil = nil
            trace(.candidateChanged(candidate))
            agentFailed(name)
        }
        logLastResortEnd(name, isLastResort: false, because: "removed")
        trace(.candidateRemoved(name))
        proxyLists[name] = nil
        tableChanged = true
        endPass()
    }

    /// `listener`'s capture heard a frame from `speaker`: they share a segment.
    func learnSegment(_ listener: AdapterName, heard speaker: AdapterName) {
        guard listener != speaker, !(selection.segmentPeers[listener]?.contains(speaker) ?? false) else { return }
        trace(.learnSegment(listener: listener, speaker: speaker))
    }

    /// VIPs on each adapter's proxy list.
    func proxyListCounts() -> [AdapterName: Int] { proxyLists.mapValues(\.count) }

    /// VIPs announcing (holding a permit) and queued for one, for status and tests.
    public var load: (announcing: Int, queued: Int) { (announcing.count, queued.count) }

    /// The engine stops: no more decisions.
    func close() {
        closed = true
        environment.io.answerTable.standbys.publish(.empty)  // withdrawing: nothing moves ahead of the engine
        queue = FIFOQueue()
        queued = VIPAddressSet()
        exclusions = [:]
    }

    // MARK: Preemption

    /// A preemption check came due: move `vip` if a better agent is still there.
    func preemptCheck(_ vip: IPAddress, token: UInt64) {
        guard preemptChecks[vip] == token else { return }
        preemptChecks[vip] = nil
        let config = configuration(of: vip)
        guard !closed, let target = selection.preemptionTarget(for: config), let current = selection.agent(of: vip) else {
            return
        }
        guard case .agent(let candidate, _) = tracedSelect(config, excluding: []), candidate.name == target.name else {
            return
        }
        environment.logger.info("preempting", metadata: ["vip": "\(vip)", "to": "\(target.name)"])
        if proxyLists[current]?.remove(vip) != nil { tableChanged = true }
        if announcing.insert(vip) { tableChanged = true }
        post(vip, .agent(agent(for: vip, candidate: candidate)))
        endPass()
    }

    private func schedulePreemptionChecks() {
        for vip in preempting where preemptChecks[vip] == nil {
            guard selection.preemptionTarget(for: configuration(of: vip)) != nil else { continue }
            let deadline = environment.clock.now().advanced(by: preemptDelay)
            preemptChecks[vip] = timers.schedule(.preemptCheck(vip), at: deadline)
        }
    }

    // MARK: Passes

    /// `name` is no longer eligible: take its whole proxy list down in this pass's table,
    /// then give each of its VIPs another agent now (while permits last) or queue it.
    private func agentFailed(_ name: AdapterName) {
        let affected = selection.members[name] ?? []
        if proxyLists[name]?.isEmpty == false {
            proxyLists[name] = []
            tableChanged = true
        }
        environment.logger.info("agent lost, moving its VIPs", metadata: ["adapter": "\(name)", "vips": "\(affected.count)"])
        for vip in affected {
            if announcing.contains(vip) || announcing.count < permits {
                decide(vip, excluding: [])
            } else {
                trace(.release(vip))
                enqueueForPermit(vip, excluding: nil)
                post(vip, .agentLost(name))
            }
        }
    }

    /// An adapter became eligible: the VIPs that had none queue for their turn.
    private func agentAppeared() {
        for vip in waiting.sorted() { enqueueForPermit(vip, excluding: nil) }
        waiting = []
        grantPermits()
        schedulePreemptionChecks()
    }

    /// Selects for `vip` and records the decision: with an agent, the VIP holds a permit.
    private func decide(_ vip: IPAddress, excluding: Set<AdapterName>) {
        let config = configuration(of: vip)
        guard case .agent(let candidate, let rank) = tracedSelect(config, excluding: excluding) else {
            if announcing.remove(vip) { tableChanged = true }
            waiting.insert(vip)
            post(vip, .noAgent)
            return
        }
        if let until = rank.lastResortUntil {
            lastResorts.given(to: candidate.name, until: until, now: environment.clock.now())
        }
        waiting.remove(vip)
        if announcing.insert(vip) { tableChanged = true }
        post(vip, .agent(agent(for: vip, candidate: candidate)))
    }

    private func enqueueForPermit(_ vip: IPAddress, excluding: AdapterName?) {
        guard !closed, queued.insert(vip) else { return }
        queue.append(vip)
        exclusions[vip] = excluding
    }

    /// Hands free permits to the queue's first VIPs.
    private func grantPermits() {
        while announcing.count < permits, let vip = queue.popFirst() {
            guard queued.remove(vip) else { continue }  // released while queued
            let excluding = exclusions.removeValue(forKey: vip)
            decide(vip, excluding: excluding.map { [$0] } ?? [])
        }
    }

    /// A warning for each held-down adapter that started serving as a last resort in this
    /// pass (later passes that give it more VIPs log nothing).
    private func logLastResorts() {
        for line in lastResorts.endPass(now: environment.clock.now()) {
            environment.logger.warning(
                "no eligible adapter: VIPs given to a held-down adapter as last resort",
                metadata: [
                    "adapter": "\(line.adapter)", "vips": "\(line.vips)",
                    "eligibleIn": "\(DurationDisplay.text(nanoseconds: line.nanoseconds))",
                ]
            )
        }
    }

    /// One info line when an adapter that served as a last resort no longer is one.
    private func logLastResortEnd(_ name: AdapterName, isLastResort: Bool, because reason: String) {
        guard let line = lastResorts.changed(name, isLastResort: isLastResort, because: reason, now: environment.clock.now()),
            case .ended(let because) = line.kind
        else { return }
        environment.logger.info(
            "adapter no longer serving as last resort",
            metadata: [
                "adapter": "\(line.adapter)", "reason": "\(because)", "vips": "\(line.vips)",
                "served": "\(DurationDisplay.text(nanoseconds: line.nanoseconds))",
            ]
        )
    }

    private func post(_ vip: IPAddress, _ verdict: VIPDecision.Verdict) {
        guard !closed else { return }
        decisionNumber += 1
        decisions.append(VIPDecision(vip: vip, number: decisionNumber, verdict: verdict))
    }

    /// Ends a pass: publishes one table if anything changed, then tells the VIPs, then
    /// resumes the enqueues whose changes that table carries.
    ///
    /// Decisions are posted only after the table that marks their VIPs as announcing is
    /// published: the answer path reports a VIP's own announcements only from then on, and
    /// a sibling's confirmation heard earlier would be lost.
    private func endPass() {
        logLastResorts()
        if tableChanged || !decisions.isEmpty { scheduleStandbyPlan() }
        if tableChanged { publish() }
        if !decisions.isEmpty {
            mailbox.post(.decisions(decisions))
            decisions = []
        }
        coalesced.published()
    }

    // MARK: Standby plan

    /// Marks the standby plan stale and schedules its refresh, unless one is scheduled.
    private func scheduleStandbyPlan() {
        standbyPlanStale = true
        guard !standbyPlanScheduled, !closed else { return }
        standbyPlanScheduled = true
        Task { [weak self] in
            try? await Task.sleep(for: Self.standbyPlanInterval)
            await self?.refreshStandbyPlan()
        }
    }

    /// Publishes, for every agent, where the failover pass would move the VIPs it decides at
    /// once if that agent's link failed now (``AgentSelection/failoverPlan(for:limit:configuration:)``,
    /// as many as there are permits): the link monitor's thread announces them the moment it
    /// reads the loss (``StandbyPlan``). Nothing when no pass changed anything since the last one.
    func refreshStandbyPlan() {
        standbyPlanScheduled = false
        guard standbyPlanStale, !closed else { return }
        standbyPlanStale = false
        var moves: [AdapterName: [StandbyPlan.Move]] = [:]
        for (failed, vips) in selection.members where !vips.isEmpty {
            var byStandby: [AdapterName: (mac: MACAddress, vips: [IPAddress])] = [:]
            for (vip, standby) in selection.failoverPlan(for: failed, limit: permits, configuration: configuration(of:)) {
                byStandby[standby.name, default: (standby.mac, [])].vips.append(vip)
            }
            guard !byStandby.isEmpty else { continue }
            moves[failed] = byStandby.sorted { $0.key < $1.key }.map { StandbyPlan.Move(standby: $0.key, mac: $0.value.mac, vips: $0.value.vips) }
        }
        environment.io.answerTable.standbys.publish(StandbyPlan(generation: generation, moves: moves))
    }

    // MARK: Helpers

    private func remember(_ config: VIPConfiguration) {
        preferences[config.address] = config.preferred.isEmpty ? nil : config.preferred
        if config.preempt { preempting.insert(config.address) } else { preempting.remove(config.address) }
    }

    private func configuration(of vip: IPAddress) -> VIPConfiguration {
        VIPConfiguration(address: vip, preferred: preferences[vip] ?? [], preempt: preempting.contains(vip))
    }

    private func agent(for vip: IPAddress, candidate: AgentCandidate) -> Agent {
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
        let previous = previousAgents.removeValue(forKey: config.address)
        let choice = selection.select(config, excluding: excluding, previous: previous)
        let event = SelectionEvent.select(
            vip: config.address, preferred: config.preferred, preempt: config.preempt, excluding: excluding.sorted(),
            previous: previous
        )
        environment.trace.record(
            .selector, event: .selection(event), at: environment.clock.now(), from: from, to: selection.summary,
            action: choice.description
        )
        return choice
    }

    private func publish() {
        tableChanged = false
        generation += 1
        var lists: [AdapterName: ProxyList] = [:]
        var ipv6Lists: [AdapterName: IPv6AddressSet] = [:]
        for (name, vips) in proxyLists where !vips.isEmpty {
            guard let mac = selection.candidates[name]?.mac else { continue }
            if !vips.ipv4.isEmpty { lists[name] = ProxyList(agentMAC: mac, vips: vips.ipv4) }
            if !vips.ipv6.isEmpty { ipv6Lists[name] = vips.ipv6 }
        }
        let macs = Set(selection.candidates.values.map(\.mac))
        environment.io.answerTable.publish(
            AnswerTable(
                generation: generation, proxyLists: lists, watchedVIPs: watched.ipv4, ownMACs: macs,
                awaitingConfirmation: announcing.ipv4,
                ipv6: IPv6AnswerTable(proxyLists: ipv6Lists, watchedVIPs: watched.ipv6, awaitingConfirmation: announcing.ipv6)
            )
        )
    }
}
