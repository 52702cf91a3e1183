import Logging
import Metrics
import ProxyARPCore
import ProxyARPStateMachines
import ServiceLifecycle

/// What the coordinator needs of the engine: apply the VIPs this host may serve, and say
/// whether any managed NIC can serve at all. ``Engine`` conforms.
public protocol ClusterEngine: Sendable {
    /// Makes `configuration`'s VIPs the ones the engine activates (others withdraw).
    func apply(_ configuration: DaemonConfiguration) async -> ReloadSummary
    /// True when at least one managed adapter is eligible as a proxy agent.
    func hasEligibleAdapter() async -> Bool
}

/// Cluster mode: runs one ``OwnershipStateMachine`` per unit against an ``OwnershipStore``
/// (etcd) and tells the engine which VIPs this host may activate.
///
/// - One lease per host, kept alive every `TTL / 4`; after each acknowledged keepalive the
///   ``FenceGate`` deadline becomes its send time + the returned TTL − `fenceGuard`. The
///   answer path reads the gate itself, so a host whose keepalives stop answers nothing
///   from the deadline on, whatever this actor is doing; the actor then withdraws the VIPs.
///   A reply without TTL (the lease is gone) closes the gate at once. With
///   `on_quorum_loss: hold` the gate does not carry the deadline: at the deadline the
///   coordinator fences only if an endpoint answered with an error since the last
///   acknowledged keepalive; when none answered at all it keeps serving, with a critical log.
/// - Keys under the prefix that no host wrote (no lease, not text, neither `units/` nor
///   `hosts/`) are logged and never taken as an owner or a host; see `handWritten`.
/// - A watch on the prefix (after a list) feeds the machines; a DELETE makes the eligible
///   hosts claim in rendezvous order, rank k after k × `takeoverStep`.
/// - A graceful shutdown closes the gate, then revokes the lease: every key goes in one
///   call and the next hosts take over at once, not a TTL later.
///
/// Nothing it starts outlives ``run()``: the keepalive, watch, eligibility and fence
/// loops, claims, releases and timers are children of one task group.
public actor ClusterCoordinator: Service {
    /// Inputs of the coordinator's loop.
    enum Input: Sendable {
        case leaseGranted(LeaseGrant, sentAt: Instant)
        case keepaliveAcknowledged(sentAt: Instant, ttl: Duration)
        case leaseLost
        case storeUnreachable(OwnershipStoreError)
        case snapshot(OwnershipSnapshot)
        case changes([OwnershipChange])
        case claimTimer(unit: String, epoch: UInt64)
        case claimResult(unit: String, Result<ClaimOutcome, OwnershipStoreError>, startedAt: Instant)
        case releaseResult(unit: String)
        case nicEligibility(Bool)
        case fenceDeadlineReached
        case settled
        case reload(DaemonConfiguration)
        case stop
    }

    private let cluster: ClusterConfiguration
    private let store: any OwnershipStore
    private let engine: any ClusterEngine
    /// The answer path's gate: closed past the lease's deadline (`fence`), or only when the
    /// coordinator decides so (`hold`).
    private let fence: FenceGate
    /// The lease's fence deadline, whatever the policy: last acknowledged keepalive's send
    /// time + TTL − guard. With `fence` the answer gate carries the same deadline.
    private let leaseDeadline = FenceGate()
    private let clock: any EngineClock
    private let logger: Logger
    private let keys: ClusterKeys
    private let settings: OwnershipSettings
    /// Subtracted from the lease's end to get the fence deadline.
    public let fenceGuard: Duration
    private let inputs: AsyncStream<Input>
    private let post: AsyncStream<Input>.Continuation

    private var configuration: DaemonConfiguration
    private var units: ClusterUnits
    private var machines: [String: OwnershipStateMachine] = [:]
    private var holders: [String: OwnershipHolder] = [:]
    private var hosts: Set<String> = []
    private var lease: LeaseGrant?
    private var nicEligible = false
    private var snapshotLoaded = false
    private var stopping = false
    private var fenced = false
    private var activeUnits: Set<String> = []
    private var engineDirty = false
    private var deleteSeenAt: [String: Instant] = [:]
    /// Releases decided in this input, sent once the engine has withdrawn the units' VIPs.
    private var pendingReleases: [(unit: String, token: FencingToken)] = []
    /// False until a short while after the first lease: lets the other hosts started at the
    /// same time register, so the first claims follow the rendezvous order.
    private var settled = false
    /// Calls have failed since the last acknowledged keepalive: log only the first failure.
    private var storeFailing = false
    /// `hold`: the last failure since the last acknowledged keepalive was something other
    /// than "no endpoint answers" (then the deadline fences as with `fence`).
    private var storeAnsweredWithError = false
    /// `hold` is keeping VIPs served past the lease's deadline (logged once per episode).
    private var holding = false

    /// Creates the coordinator for `configuration` (which must have a `cluster:` section).
    public init(
        configuration: DaemonConfiguration, store: any OwnershipStore, engine: any ClusterEngine, fence: FenceGate,
        clock: any EngineClock, logger: Logger, settings: OwnershipSettings = OwnershipSettings(),
        fenceGuard: Duration = .milliseconds(100)
    ) {
        precondition(configuration.cluster != nil, "ClusterCoordinator needs a cluster section")
        self.cluster = configuration.cluster!
        self.configuration = configuration
        self.units = ClusterUnits(configuration)
        self.store = store
        self.engine = engine
        self.fence = fence
        self.clock = clock
        var logger = logger
        logger[metadataKey: "host"] = "\(configuration.cluster!.host)"
        self.logger = logger
        self.keys = ClusterKeys(prefix: configuration.cluster!.keyPrefix)
        self.settings = settings
        self.fenceGuard = fenceGuard
        (self.inputs, self.post) = AsyncStream<Input>.makeStream()
        self.hosts = [configuration.cluster!.host]
        fence.close()  // nothing is answered before a lease is confirmed
    }

    /// The configuration the engine starts with in cluster mode: no VIPs until owned.
    public static func engineConfiguration(_ configuration: DaemonConfiguration) -> DaemonConfiguration {
        var engineConfiguration = configuration
        engineConfiguration.vips = []
        return engineConfiguration
    }

    /// Applies a reloaded configuration: units no longer configured are released at once.
    public nonisolated func reload(_ configuration: DaemonConfiguration) {
        post.yield(.reload(configuration))
    }

    /// Runs until cancelled or a graceful shutdown; on the way out it fences and revokes the lease.
    public func run() async throws {
        for name in units.names { machines[name] = OwnershipStateMachine(unit: name, settings: settings) }
        let post = self.post
        await withDiscardingTaskGroup { group in
            group.addTask { await self.leaseLoop() }
            group.addTask { await self.watchLoop() }
            group.addTask { await self.eligibilityLoop() }
            group.addTask { await self.fenceLoop() }
            await withTaskCancellationHandler {
                await withGracefulShutdownHandler {
                    for await input in self.inputs {
                        if case .stop = input {
                            await self.stop()
                            break
                        }
                        await self.handle(input, in: &group)
                        await self.applyToEngineIfNeeded()
                        self.sendPendingReleases(in: &group)
                    }
                } onGracefulShutdown: {
                    post.yield(.stop)
                }
            } onCancel: {
                post.yield(.stop)
            }
            post.finish()
            group.cancelAll()
        }
    }

    /// The cluster view for `status`.
    public func status() -> ClusterStatus {
        let now = clock.now()
        let deadline = leaseDeadline.deadlineNanoseconds
        let remaining: Int64? = lease == nil || deadline == .max || deadline == .min ? nil : (deadline - now.nanoseconds) / 1_000_000
        return ClusterStatus(
            host: cluster.host, hosts: hosts.sorted(), lease: lease.map { "\($0.id)" }, fenceRemainingMilliseconds: remaining,
            fenced: !fence.allows(nowNanoseconds: now.nanoseconds),
            units: units.names.map { name in
                ClusterStatus.UnitStatus(
                    unit: name, state: machines[name]?.stateName ?? "unowned", owner: holders[name]?.host,
                    token: holders[name]?.token.rawValue ?? machines[name]?.token?.rawValue, vipCount: units.vips[name]?.count ?? 0)
            })
    }

    // MARK: Loops (children of run's group)

    private func leaseLoop() async {
        let ttl = cluster.leaseTTL
        let interval = max(Duration.milliseconds(100), ttl / 4)
        while !Task.isCancelled {
            let sentAt = clock.now()
            let grant: LeaseGrant
            do {
                grant = try await store.grantLease(ttl: ttl)
            } catch {
                post.yield(.storeUnreachable(error))
                try? await Task.sleep(for: .milliseconds(200))
                continue
            }
            post.yield(.leaseGranted(grant, sentAt: sentAt))
            var registered = false
            var pause = interval
            keepalive: while !Task.isCancelled {
                if !registered {
                    switch try? await store.claim(key: keys.hostKey(cluster.host), value: cluster.host, lease: grant.id) {
                    case .claimed?: registered = true
                    case .taken(let holder)? where holder?.lease == grant.id: registered = true
                    default: break  // an earlier instance's key, until its lease ends
                    }
                }
                try? await clock.sleep(until: clock.now().advanced(by: pause))
                let sentAt = clock.now()
                do {
                    guard let ttl = try await store.keepAlive(grant.id) else {
                        post.yield(.leaseLost)
                        break keepalive
                    }
                    post.yield(.keepaliveAcknowledged(sentAt: sentAt, ttl: ttl))
                    pause = interval
                } catch {
                    // Retry soon (an etcd leader election answers again within about a second).
                    post.yield(.storeUnreachable(error))
                    pause = .milliseconds(50)
                }
            }
        }
    }

    private func watchLoop() async {
        let prefix = keys.prefix
        let post = self.post
        while !Task.isCancelled {
            do {
                let snapshot = try await store.list(prefix: prefix)
                post.yield(.snapshot(snapshot))
                try await store.watch(prefix: prefix, afterRevision: snapshot.revision) { changes in
                    post.yield(.changes(changes))
                }
            } catch {
                Counter(label: ClusterMetrics.watchRestarts).increment()
                logger.info("watch restarts", metadata: ["reason": "\(error)"])
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    private func eligibilityLoop() async {
        var last: Bool?
        while !Task.isCancelled {
            let eligible = await engine.hasEligibleAdapter()
            if eligible != last {
                last = eligible
                post.yield(.nicEligibility(eligible))
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    private func fenceLoop() async {
        var reportedDeadline = Int64.max
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(10))
            let deadline = leaseDeadline.deadlineNanoseconds
            if deadline != reportedDeadline, clock.now().nanoseconds >= deadline {
                reportedDeadline = deadline
                post.yield(.fenceDeadlineReached)
            }
        }
    }

    // MARK: Inputs

    private func handle(_ input: Input, in group: inout DiscardingTaskGroup) async {
        let now = clock.now()
        switch input {
        case .leaseGranted(let grant, let sentAt):
            if lease == nil, !settled {
                let (clock, post) = (self.clock, self.post)
                let settle = min(grant.ttl / 2, .milliseconds(500))
                group.addTask {
                    do { try await clock.sleep(until: clock.now().advanced(by: settle)) } catch { return }
                    post.yield(.settled)
                }
            }
            lease = grant
            logger.info("lease granted", metadata: ["lease": "\(grant.id)", "ttl": "\(grant.ttl)"])
            acknowledge(sentAt: sentAt, ttl: grant.ttl, now: now, in: &group)
            updateEligibility(now: now, in: &group, force: true)
        case .keepaliveAcknowledged(let sentAt, let ttl):
            acknowledge(sentAt: sentAt, ttl: ttl, now: now, in: &group)
        case .leaseLost:
            fence.close()
            leaseDeadline.close()
            holding = false
            Counter(label: ClusterMetrics.fenceEvents, dimensions: [("cause", "lease_lost")]).increment()
            logger.error("lease lost: fenced at once, VIPs withdrawn", metadata: ["lease": "\(lease.map { "\($0.id)" } ?? "-")"])
            lease = nil
            fenced = true
            for name in machines.keys.sorted() { run(machines[name]!.leaseLost(now: now), unit: name, now: now, in: &group) }
        case .storeUnreachable(let error):
            if case .unreachable = error {} else { storeAnsweredWithError = true }
            if cluster.onQuorumLoss == .hold, lease != nil, case .unreachable = error {
                if !holding {
                    holding = true
                    logger.critical("etcd unreachable: holding owned VIPs (on_quorum_loss: hold)", metadata: ["error": "\(error)"])
                }
                fence.open()
                if fenced {
                    fenced = false
                    for name in machines.keys.sorted() { run(machines[name]!.leaseConfirmed(now: now), unit: name, now: now, in: &group) }
                }
            } else if !storeFailing {
                storeFailing = true
                logger.warning("etcd call failed; retrying every 50 ms (logged once until it answers)", metadata: ["error": "\(error)"])
            }
        case .snapshot(let snapshot):
            snapshotLoaded = true
            var seen: [String: OwnershipHolder] = [:]
            var live: Set<String> = [cluster.host]
            for record in snapshot.records {
                switch keys.kind(of: record.key) {
                case .unit(let name) where record.lease == nil: handWritten(record, unit: name, in: &group)
                case .unit(let name): seen[name] = holder(of: record)
                case .host where record.lease == nil: ignore(record, because: "a membership key without a lease")
                case .host(let name): live.insert(name)
                case .foreign: ignore(record, because: "neither units/ nor hosts/")
                }
            }
            holders = seen
            hosts = live
            for name in units.names { run(machines[name]!.observed(seen[name], now: now), unit: name, now: now, in: &group) }
            updateEligibility(now: now, in: &group, force: true)
        case .changes(let changes):
            // Membership first: a dead host's unit keys and its membership key go in one
            // revision, and the ranks for the takeover must already leave it out.
            var membershipChanged = false
            for change in changes {
                switch change {
                case .put(let record, _):
                    switch keys.kind(of: record.key) {
                    case .host where record.lease == nil: ignore(record, because: "a membership key without a lease")
                    case .host(let name): membershipChanged = hosts.insert(name).inserted || membershipChanged
                    case .foreign: ignore(record, because: "neither units/ nor hosts/")
                    case .unit: break
                    }
                case .delete(let key, _):
                    if case .host(let name) = keys.kind(of: key), name != cluster.host {
                        membershipChanged = hosts.remove(name) != nil || membershipChanged
                    }
                }
            }
            if membershipChanged { updateEligibility(now: now, in: &group, force: false) }
            for change in changes {
                switch change {
                case .put(let record, _):
                    guard case .unit(let name) = keys.kind(of: record.key) else { continue }
                    guard record.lease != nil else {
                        handWritten(record, unit: name, in: &group)
                        continue
                    }
                    let holder = holder(of: record)
                    holders[name] = holder
                    if let seenAt = deleteSeenAt.removeValue(forKey: name) {
                        Metrics.Timer(label: ClusterMetrics.takeoverLatency).recordNanoseconds(now.duration(since: seenAt).nanosecondsClamped)
                    }
                    if machines[name] != nil { run(machines[name]!.observed(holder, now: now), unit: name, now: now, in: &group) }
                case .delete(let key, _):
                    guard case .unit(let name) = keys.kind(of: key) else { continue }
                    holders[name] = nil
                    if machines[name] != nil {
                        deleteSeenAt[name] = now
                        run(machines[name]!.observed(nil, now: now), unit: name, now: now, in: &group)
                    }
                }
            }
        case .claimTimer(let unit, let epoch):
            if machines[unit] != nil { run(machines[unit]!.claimTimerFired(epoch: epoch, now: now), unit: unit, now: now, in: &group) }
        case .claimResult(let unit, let result, let startedAt):
            guard machines[unit] != nil else { return }
            switch result {
            case .success(.claimed(let token)):
                Counter(label: ClusterMetrics.claims, dimensions: [("result", "claimed")]).increment()
                logger.info("claimed", metadata: ["unit": "\(unit)", "token": "\(token)", "ms": "\(now.duration(since: startedAt))"])
                holders[unit] = OwnershipHolder(host: cluster.host, token: token, isOurs: true)
                do {
                    run(try machines[unit]!.claimSucceeded(token, now: now), unit: unit, now: now, in: &group)
                } catch {
                    logger.error("ownership machine isolated after a bug", metadata: ["unit": "\(unit)", "error": "\(error)"])
                }
            case .success(.taken(let record)):
                Counter(label: ClusterMetrics.claims, dimensions: [("result", "taken")]).increment()
                let holder = record.map(holder(of:))
                if let holder { holders[unit] = holder }
                run(machines[unit]!.claimTaken(by: holder, now: now), unit: unit, now: now, in: &group)
            case .failure(let error):
                Counter(label: ClusterMetrics.claims, dimensions: [("result", "failed")]).increment()
                logger.warning("claim failed", metadata: ["unit": "\(unit)", "error": "\(error)"])
                run(machines[unit]!.claimFailed(now: now), unit: unit, now: now, in: &group)
            }
        case .releaseResult(let unit):
            do {
                if machines[unit] != nil { run(try machines[unit]!.releaseCompleted(now: now), unit: unit, now: now, in: &group) }
            } catch {
                logger.error("ownership machine isolated after a bug", metadata: ["unit": "\(unit)", "error": "\(error)"])
            }
        case .nicEligibility(let eligible):
            nicEligible = eligible
            logger.info(eligible ? "a NIC can serve: claiming allowed" : "no NIC can serve: releasing every unit")
            updateEligibility(now: now, in: &group, force: true)
        case .settled:
            settled = true
            updateEligibility(now: now, in: &group, force: true)
        case .fenceDeadlineReached:
            guard !leaseDeadline.allows(nowNanoseconds: now.nanoseconds), lease != nil, !fenced else { return }
            if cluster.onQuorumLoss == .hold, !storeAnsweredWithError {
                // No endpoint has answered since the last acknowledged keepalive (the calls
                // failed as unreachable, or are still waiting): keep serving, loudly.
                if !holding {
                    holding = true
                    logger.critical("no keepalive acknowledged before the deadline and no etcd endpoint answers: holding owned VIPs (on_quorum_loss: hold)")
                }
                Counter(label: ClusterMetrics.fenceEvents, dimensions: [("cause", "held")]).increment()
                return
            }
            fence.close()
            fenced = true
            Counter(label: ClusterMetrics.fenceEvents, dimensions: [("cause", "deadline")]).increment()
            logger.error("fenced: no keepalive acknowledged before the deadline; not answering", metadata: ["lease": "\(lease!.id)"])
            for name in machines.keys.sorted() { run(machines[name]!.fenceDeadlinePassed(now: now), unit: name, now: now, in: &group) }
        case .reload(let newConfiguration):
            configuration = newConfiguration
            units = ClusterUnits(newConfiguration)
            for name in units.names where machines[name] == nil {
                machines[name] = OwnershipStateMachine(unit: name, settings: settings)
                run(machines[name]!.observed(holders[name], now: now), unit: name, now: now, in: &group)
            }
            engineDirty = true
            updateEligibility(now: now, in: &group, force: true)
        case .stop:
            break
        }
    }

    private func acknowledge(sentAt: Instant, ttl: Duration, now: Instant, in group: inout DiscardingTaskGroup) {
        if storeFailing {
            storeFailing = false
            logger.notice("etcd answers again")
        }
        storeAnsweredWithError = false
        let deadline = sentAt.advanced(by: ttl - fenceGuard)
        leaseDeadline.setDeadline(deadline)
        if cluster.onQuorumLoss == .hold {
            // The gate stays open: the coordinator closes it when the deadline passes while an
            // endpoint answers (fenceDeadlineReached), or when the lease is gone.
            if !fenced || now < deadline { fence.open() }
            if holding {
                holding = false
                logger.notice("etcd answers again: no longer holding")
            }
        } else {
            fence.setDeadline(deadline)
        }
        Gauge(label: ClusterMetrics.leaseRemaining).record(Double(deadline.duration(since: now).nanosecondsClamped) / 1e9)
        guard fenced, now < deadline else { return }
        fenced = false
        logger.notice("lease confirmed again: answering", metadata: ["lease": "\(lease.map { "\($0.id)" } ?? "-")"])
        for name in machines.keys.sorted() { run(machines[name]!.leaseConfirmed(now: now), unit: name, now: now, in: &group) }
    }

    /// Tells every machine whether this host may serve its unit, and its rank.
    private func updateEligibility(now: Instant, in group: inout DiscardingTaskGroup, force: Bool) {
        let hostEligible = nicEligible && lease != nil && snapshotLoaded && settled && !stopping
        let configured = Set(units.names)
        for name in machines.keys.sorted() {
            let rank = RendezvousRank.rank(of: cluster.host, hosts: hosts, unit: name, preferred: units.preferredHosts[name] ?? [])
            let eligible = hostEligible && configured.contains(name)
            guard force || machines[name]!.eligible != eligible || machines[name]!.rank != rank else { continue }
            run(machines[name]!.eligibilityChanged(eligible: eligible, rank: rank, now: now), unit: name, now: now, in: &group)
        }
    }

    /// Logs a key under the prefix that no proxyarpd wrote, and otherwise ignores it.
    private func ignore(_ record: OwnershipRecord, because reason: String) {
        logger.warning("ignoring a key under the prefix that proxyarpd did not write", metadata: ["key": "\(record.key)", "reason": "\(reason)"])
    }

    /// A unit key without a lease: every claim carries one, so someone wrote it by hand. It
    /// is not taken as an owner. Left alone it would block the unit for good (it never
    /// expires), so: when this host holds the unit under that same token (its key was
    /// rewritten), it puts the key back under its lease and keeps serving; when nobody holds
    /// it, a host that has the unit configured deletes it, guarded by its create revision,
    /// and the DELETE starts the usual takeover.
    private func handWritten(_ record: OwnershipRecord, unit: String, in group: inout DiscardingTaskGroup) {
        let store = self.store
        if let lease, let token = machines[unit]?.token, token == record.token {
            logger.warning("our unit key was rewritten without a lease: putting it back", metadata: ["key": "\(record.key)", "value": "\(record.value)"])
            let (key, host) = (record.key, cluster.host)
            group.addTask { _ = try? await store.reassert(key: key, value: host, lease: lease.id, token: token) }
        } else if holders[unit]?.token != record.token, units.vips[unit] != nil {
            logger.warning("ignoring a unit key without a lease (written by hand?); deleting it so the unit can be claimed", metadata: ["key": "\(record.key)", "value": "\(record.value)"])
            let (key, token) = (record.key, record.token)
            group.addTask { _ = try? await store.release(key: key, token: token) }
        } else {
            ignore(record, because: "a unit key without a lease")
        }
    }

    private func holder(of record: OwnershipRecord) -> OwnershipHolder {
        OwnershipHolder(host: record.value, token: record.token, isOurs: lease != nil && record.lease == lease?.id)
    }

    /// Performs one machine action: engine first, then store, then timer.
    private func run(_ action: OwnershipAction, unit: String, now: Instant, in group: inout DiscardingTaskGroup) {
        switch action.engine {
        case .activate(let token)?:
            logger.info("owner: activating", metadata: ["unit": "\(unit)", "token": "\(token)"])
            if activeUnits.insert(unit).inserted { engineDirty = true }
        case .deactivate?:
            logger.info("not owner: withdrawing", metadata: ["unit": "\(unit)"])
            if activeUnits.remove(unit) != nil { engineDirty = true }
        case nil: break
        }
        let store = self.store
        let post = self.post
        switch action.store {
        case .claim?:
            guard let lease else {
                post.yield(.claimResult(unit: unit, .failure(.unreachable("no lease yet")), startedAt: now))
                break
            }
            let key = keys.unitKey(unit)
            let host = cluster.host
            group.addTask {
                do throws(OwnershipStoreError) {
                    let outcome = try await store.claim(key: key, value: host, lease: lease.id)
                    post.yield(.claimResult(unit: unit, .success(outcome), startedAt: now))
                } catch {
                    post.yield(.claimResult(unit: unit, .failure(error), startedAt: now))
                }
            }
        case .release(let token)?:
            pendingReleases.append((unit, token))
        case nil: break
        }
        if let timer = action.claimTimer {
            let clock = self.clock
            group.addTask {
                do { try await clock.sleep(until: timer.deadline) } catch { return }
                post.yield(.claimTimer(unit: unit, epoch: timer.epoch))
            }
        }
    }

    /// Sends the releases decided by the last input: after the engine withdrew the VIPs, so
    /// this host has stopped answering before another host can claim.
    private func sendPendingReleases(in group: inout DiscardingTaskGroup) {
        guard !pendingReleases.isEmpty else { return }
        let (store, post) = (self.store, self.post)
        for (unit, token) in pendingReleases {
            let key = keys.unitKey(unit)
            group.addTask {
                _ = try? await store.release(key: key, token: token)
                post.yield(.releaseResult(unit: unit))
            }
        }
        pendingReleases.removeAll()
    }

    private func applyToEngineIfNeeded() async {
        guard engineDirty else { return }
        engineDirty = false
        var owned = configuration
        owned.vips = activeUnits.sorted().flatMap { units.vips[$0] ?? [] }
        // Ownership is arbitrated by etcd and fenced by the lease: no RFC 5227 probe before a takeover.
        owned.conflicts.probeWait = .zero
        _ = await engine.apply(owned)
    }

    private func stop() async {
        stopping = true
        fence.close()  // stop answering and announcing now, before the keys go
        let owned = activeUnits.count
        if let lease {
            let started = clock.now()
            do {
                try await store.revokeLease(lease.id)
                logger.notice("stopping: lease revoked, every unit released", metadata: ["units": "\(owned)", "ms": "\(clock.now().duration(since: started))"])
            } catch {
                logger.warning("stopping: revoking the lease failed; its keys expire with it", metadata: ["error": "\(error)"])
            }
        }
        self.lease = nil
        activeUnits = []
        engineDirty = true
        await applyToEngineIfNeeded()
    }
}

/// Metric names of cluster mode.
public enum ClusterMetrics {
    /// Seconds left before the fence deadline, after each keepalive.
    public static let leaseRemaining = "proxyarpd_cluster_lease_remaining_seconds"
    /// Fence events, by cause (deadline, lease_lost).
    public static let fenceEvents = "proxyarpd_cluster_fence_events_total"
    /// Claims by result (claimed, taken, failed).
    public static let claims = "proxyarpd_cluster_claims_total"
    /// From a unit's DELETE seen to its next PUT seen, on every host.
    public static let takeoverLatency = "proxyarpd_cluster_takeover_seconds"
    /// etcd round trip of each successful call.
    public static let etcdRoundTrip = "proxyarpd_cluster_etcd_round_trip_seconds"
    /// Watch restarts (compaction, silence, connection loss).
    public static let watchRestarts = "proxyarpd_cluster_watch_restarts_total"
}
