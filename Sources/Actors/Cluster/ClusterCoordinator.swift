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
    /// True when at least one managed adapter can serve: eligible, or only held down with
    /// its link up (a confirmation or flap hold-down ends by itself; a lost link does not).
    func hasEligibleAdapter() async -> Bool
}

/// Cluster mode: runs one ``OwnershipStateMachine`` per unit against an ``OwnershipStore``
/// (etcd) and tells the engine which VIPs this host may activate.
///
/// - One lease per host, kept alive every `TTL / 4` by the ``LeaseKeeper`` on its own thread;
///   after each acknowledged keepalive the keeper sets the ``FenceGate`` deadline to its
///   send time + the returned TTL − `fenceGuard` at once, without this actor. The
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
/// - The engine gets the owned VIPs from one apply loop at a time: changes that arrive
///   while an apply runs are applied together by the next one (1,600 units claimed at
///   start are a few applies, not 1,600). A release waits for the apply that withdrew its
///   unit's VIPs.
/// - Every machine's creation and events go to the state trace (subject `.unit`), so a
///   dump replays them.
/// - Claims and releases go to the store at most ``storeCallsInFlight`` at a time, the
///   rest in order from a queue: the etcd client's connections are shared with the
///   keepalive, which must not wait behind a burst of 1,600 claims.
///
/// Nothing it starts outlives ``run()``: the keepalive, watch, eligibility and fence
/// loops, claims, releases, timers and the apply loop are children of one task group.
public actor ClusterCoordinator: Service {
    /// Inputs of the coordinator's loop.
    enum Input: Sendable {
        /// What the lease keeper's loop saw (granted, acknowledged, lost, a failed call).
        case lease(LeaseKeeper.Event)
        /// The watch's listing was refused (etcd refused the credentials).
        case watchRefused(OwnershipStoreError)
        case snapshot(OwnershipSnapshot)
        case changes([OwnershipChange])
        case claimTimer(unit: String, epoch: UInt64)
        case claimResult(unit: String, Result<ClaimOutcome, OwnershipStoreError>, startedAt: Instant)
        case releaseResult(unit: String)
        case nicEligibility(Bool)
        case engineApplied
        case fenceDeadlineReached
        case settled
        case reload(DaemonConfiguration)
        case membershipPublished(value: String, stored: Bool)
        case rebalanceTick
        /// Stop: after a graceful shutdown the keeper already revoked the lease (its outcome).
        case stop(LeaseKeeper.StopOutcome?)
    }

    let cluster: ClusterConfiguration
    let store: any OwnershipStore
    private let engine: any ClusterEngine
    /// The answer path's gate: closed past the lease's deadline (`fence`), or only when the
    /// coordinator decides so (`hold`).
    private let fence: FenceGate
    /// Keeps the lease alive (on its own thread when given one) and writes both gates.
    private let keeper: LeaseKeeper
    /// The lease's fence deadline, whatever the policy: last acknowledged keepalive's send
    /// time + TTL − guard (the keeper's). With `fence` the answer gate carries the same deadline.
    private var leaseDeadline: FenceGate { keeper.leaseDeadline }
    private let clock: any EngineClock
    private let trace: TraceLog?
    let logger: Logger
    let keys: ClusterKeys
    private let settings: OwnershipSettings
    /// Subtracted from the lease's end to get the fence deadline.
    public let fenceGuard: Duration
    private let inputs: AsyncStream<Input>
    let post: AsyncStream<Input>.Continuation
    /// A graceful shutdown asks the keeper to revoke through this, not behind the inputs.
    private let stopRequests: AsyncStream<Void>
    private let requestStop: AsyncStream<Void>.Continuation

    private var configuration: DaemonConfiguration
    var units: ClusterUnits
    var machines: [String: OwnershipStateMachine] = [:]
    private var holders: [String: OwnershipHolder] = [:]
    private var hosts: Set<String> = []
    var lease: LeaseGrant?
    var nicEligible = false
    var snapshotLoaded = false
    var stopping = false
    var fenced = false
    /// Membership (who can serve, since when), rebalancing and this host's published
    /// ability; see ClusterCoordinator+Rebalance.swift.
    var balance: ClusterBalance
    private var activeUnits: Set<String> = []
    private var engineDirty = false
    private var deleteSeenAt: [String: Instant] = [:]
    /// Bumped whenever the owned set changes; the engine has applied up to `appliedGeneration`.
    private var engineGeneration: UInt64 = 0
    private var appliedGeneration: UInt64 = 0
    /// The apply loop is running (at most one at a time).
    private var applyRunning = false
    /// Units activated or deactivated since the last apply began (for the log line).
    private var changesSinceApply = 0
    /// Releases decided in the current input; they wait for the generation that follows it.
    private var decidedReleases: [(unit: String, token: FencingToken)] = []
    /// Releases sent once the engine applied `generation` (it withdrew the units' VIPs).
    private var pendingReleases: [(unit: String, token: FencingToken, generation: UInt64)] = []
    /// The configuration of the last reload asked for (reloads are diffed against it).
    private var requestedConfiguration: DaemonConfiguration
    /// Claims and releases waiting for a slot, and the number in flight.
    private var storeCalls = FIFOQueue<StoreCall>()
    private var storeCallsRunning = 0

    /// A claim or a release waiting for its turn.
    private enum StoreCall {
        case claim(unit: String, decidedAt: Instant)
        case release(unit: String, token: FencingToken)
    }

    /// Claims and releases in flight at most (the etcd client keeps up to 8 connections per
    /// endpoint; the watch holds one and the keepalive needs one).
    public static let storeCallsInFlight = 6
    /// False until a short while after the first lease: lets the other hosts started at the
    /// same time register, so the first claims follow the rendezvous order.
    var settled = false
    /// Calls have failed since the last acknowledged keepalive: log only the first failure.
    private var storeFailing = false
    /// `hold`: the last failure since the last acknowledged keepalive was something other
    /// than "no endpoint answers" (then the deadline fences as with `fence`).
    private var storeAnsweredWithError = false
    /// `hold` is keeping VIPs served past the lease's deadline (logged once per episode).
    private var holding = false {
        didSet { if holding != oldValue { Gauge(label: ClusterMetrics.holding).record(holding ? 1 : 0) } }
    }
    /// The last etcd error other than "unreachable" since the last acknowledged keepalive (status).
    private var etcdError: String?
    /// etcd refused the credentials (logged once, until a listing succeeds).
    private var credentialsRefused = false
    /// The lease the answer gate was last armed for (see ``LeaseKeeper/arm(_:)``).
    private var armedLease: LeaseID?
    /// A lease was lost in the current input: the gate may follow a new lease only once the
    /// engine applied the generation that withdrew the lost lease's VIPs.
    private var withdrawalPending = false
    private var withdrawGeneration: UInt64 = 0
    /// A lease was lost and the answer gate has not followed a new one yet: its opening is
    /// logged (the machines are unowned after a loss; no "lease confirmed" then).
    private var gateReopenPending = false

    /// Creates the coordinator for `configuration` (which must have a `cluster:` section).
    public init(
        configuration: DaemonConfiguration, store: any OwnershipStore, engine: any ClusterEngine, fence: FenceGate,
        clock: any EngineClock, trace: TraceLog? = nil, logger: Logger, settings: OwnershipSettings = OwnershipSettings(),
        fenceGuard: Duration = .milliseconds(100), keepaliveThread: (any DedicatedTaskThread)? = nil
    ) {
        precondition(configuration.cluster != nil, "ClusterCoordinator needs a cluster section")
        self.cluster = configuration.cluster!
        self.configuration = configuration
        self.requestedConfiguration = configuration
        self.trace = trace
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
        (self.stopRequests, self.requestStop) = AsyncStream<Void>.makeStream()
        self.hosts = [configuration.cluster!.host]
        self.balance = ClusterBalance(host: configuration.cluster!.host, settle: configuration.cluster!.rebalanceAfter)
        // The keeper closes the gate: nothing is answered before a lease is confirmed.
        self.keeper = LeaseKeeper(
            store: store, clock: clock, thread: keepaliveThread, ttl: configuration.cluster!.leaseTTL, fenceGuard: fenceGuard,
            policy: configuration.cluster!.onQuorumLoss, answerGate: fence, logger: self.logger)
    }

    /// The configuration the engine starts with in cluster mode: no VIPs until owned.
    public static func engineConfiguration(_ configuration: DaemonConfiguration) -> DaemonConfiguration {
        var engineConfiguration = configuration
        engineConfiguration.vips = []
        return engineConfiguration
    }

    /// Applies a reloaded configuration: units no longer configured are released at once, new
    /// ones claimed. Returns the VIPs added, removed and changed in the configuration (the
    /// pool all hosts share; this host activates the ones it owns). A changed `cluster:`
    /// section is refused: it takes effect only at a restart, and the running
    /// configuration is kept.
    public func reload(_ newConfiguration: DaemonConfiguration) throws(ClusterReloadRefused) -> ReloadSummary {
        guard newConfiguration.cluster == cluster else {
            throw ClusterReloadRefused(running: cluster, requested: newConfiguration.cluster)
        }
        let summary = ReloadSummary.between(requestedConfiguration.vips, newConfiguration.vips)
        requestedConfiguration = newConfiguration
        post.yield(.reload(newConfiguration))
        return summary
    }

    /// Nil until this host's first claims are settled: it holds its lease, has read the
    /// store, no claim is waiting or in flight, and the engine has applied what it owns.
    /// Then the addresses of the VIPs it owns (the engine is activating or serving them).
    /// `READY=1` waits for this, then for those VIPs to settle in the engine.
    public func settledOwnedVIPs() -> [IPAddress]? {
        guard lease != nil, snapshotLoaded, settled, !engineDirty, !applyRunning, appliedGeneration == engineGeneration,
            machines.values.allSatisfy({ !$0.isClaimPending })
        else { return nil }
        return activeUnits.sorted().flatMap { units.vips[$0]?.map(\.address) ?? [] }
    }

    /// Runs until cancelled or a graceful shutdown; on the way out it fences and revokes the lease.
    public func run() async throws {
        let now = clock.now()
        for name in units.names { createMachine(name, now: now) }
        let (post, keeper, hostKey, host) = (self.post, self.keeper, keys.hostKey(cluster.host), cluster.host)
        let (stopRequests, requestStop) = (self.stopRequests, self.requestStop)
        await withDiscardingTaskGroup { group in
            // A graceful shutdown: the gate closes in the handler, the revoke goes out from the
            // keeper's thread at once, and the inputs queued before it do not delay it.
            group.addTask {
                for await _ in stopRequests {
                    post.yield(.stop(await keeper.stop()))
                    return
                }
            }
            group.addTask {
                await keeper.run(hostKey: hostKey, host: host) { post.yield(.lease($0)) }
            }
            group.addTask { await self.watchLoop() }
            group.addTask { await self.eligibilityLoop() }
            group.addTask { await self.fenceLoop() }
            group.addTask { await self.rebalanceLoop() }
            await withTaskCancellationHandler {
                await withGracefulShutdownHandler {
                    for await input in self.inputs {
                        if case .stop(let outcome) = input {
                            await self.stop(outcome)
                            break
                        }
                        await self.handle(input, in: &group)
                        self.startApplyIfNeeded(in: &group)
                        self.armGateIfReady()
                        self.sendPendingReleases(in: &group)
                        self.launchStoreCalls(in: &group)
                    }
                } onGracefulShutdown: {
                    keeper.disarm()
                    requestStop.yield()
                }
            } onCancel: {
                keeper.disarm()
                post.yield(.stop(nil))
            }
            post.finish()
            group.cancelAll()
        }
    }

    /// Above this many units, `status` counts units per owner instead of listing them
    /// (unless asked for all, or for one VIP's unit).
    public static let unitListingThreshold = 1_000

    /// The cluster view for `status`: every unit (up to ``unitListingThreshold`` or with
    /// `listAll`), or only the one holding `vip` (either family); the counts per owner always.
    public func status(vip: IPAddress? = nil, listAll: Bool = false) -> ClusterStatus {
        let now = clock.now()
        let deadline = leaseDeadline.deadlineNanoseconds
        let remaining: Int64? = lease == nil || deadline == .max || deadline == .min ? nil : (deadline - now.nanoseconds) / 1_000_000
        let names = units.names
        var byOwner: [String: Int] = [:]
        for name in names { byOwner[holders[name]?.host ?? "none", default: 0] += 1 }
        let prefix = configuration.selection.blockPrefixLength
        let listUnits = listAll || names.count <= Self.unitListingThreshold
        let listed = vip.map { [ClusterUnits.unit(of: $0, blockPrefixLength: prefix)] } ?? (listUnits ? names : [])
        var status = ClusterStatus(
            host: cluster.host, hosts: hosts.sorted(), lease: lease.map { "\($0.id)" }, fenceRemainingMilliseconds: remaining,
            fenced: !fence.allows(nowNanoseconds: now.nanoseconds),
            units: listed.map { name in
                ClusterStatus.UnitStatus(
                    unit: name, state: machines[name]?.stateName ?? "unowned", owner: holders[name]?.host,
                    token: holders[name]?.token.rawValue ?? machines[name]?.token?.rawValue, vipCount: units.vips[name]?.count ?? 0)
            })
        status.holding = holding
        status.etcdError = etcdError
        status.leaseTTLMilliseconds = lease.map { Int64($0.ttl.nanosecondsClamped / 1_000_000) }
        status.leaseRemainingMilliseconds = remaining.map { $0 + fenceGuard.nanosecondsClamped / 1_000_000 }
        status.blockPrefixLength = prefix
        status.unitCount = names.count
        status.unitsByOwner = byOwner
        return status
    }

    // MARK: Loops (children of run's group)

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
                if case .unauthenticated = error {
                    // Refused credentials: the coordinator logs it once; retry every second.
                    post.yield(.watchRefused(error))
                    try? await Task.sleep(for: .seconds(1))
                    continue
                }
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
        case .lease(let event):
            handle(event, now: now, in: &group)
        case .watchRefused(let error):
            storeFailed(error, now: now, in: &group)
        case .snapshot(let snapshot):
            if credentialsRefused {
                credentialsRefused = false
                etcdError = nil
                logger.notice("etcd accepts our credentials again")
            }
            snapshotLoaded = true
            var seen: [String: OwnershipHolder] = [:]
            var live: Set<String> = [cluster.host]
            var memberValues: [String: OwnershipRecord] = [:]
            for record in snapshot.records {
                switch keys.kind(of: record.key) {
                case .unit(let name) where record.lease == nil: handWritten(record, unit: name, in: &group)
                case .unit(let name): seen[name] = holder(of: record)
                case .host where record.lease == nil: ignore(record, because: "a membership key without a lease")
                case .host(let name):
                    live.insert(name)
                    memberValues[name] = record
                case .foreign: ignore(record, because: "neither units/ nor hosts/")
                }
            }
            holders = seen
            hosts = live
            membershipListed(memberValues, now: now)
            for name in units.names { step(name, .observed(seen[name]), now: now, in: &group) }
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
                    case .host(let name):
                        membershipChanged = hosts.insert(name).inserted || membershipChanged
                        membershipChanged = memberSeen(record, name: name, now: now) || membershipChanged
                    case .foreign: ignore(record, because: "neither units/ nor hosts/")
                    case .unit: break
                    }
                case .delete(let key, _):
                    if case .host(let name) = keys.kind(of: key) {
                        membershipChanged = memberGone(name) || membershipChanged
                        if name != cluster.host { membershipChanged = hosts.remove(name) != nil || membershipChanged }
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
                    balance.rebalancer.claimed(name, by: holder.host, now: now)
                    if let seenAt = deleteSeenAt.removeValue(forKey: name) {
                        Metrics.Timer(label: ClusterMetrics.takeoverLatency).recordNanoseconds(now.duration(since: seenAt).nanosecondsClamped)
                    }
                    step(name, .observed(holder), now: now, in: &group)
                case .delete(let key, _):
                    guard case .unit(let name) = keys.kind(of: key) else { continue }
                    holders[name] = nil
                    if machines[name] != nil {
                        deleteSeenAt[name] = now
                        step(name, .observed(nil), now: now, in: &group)
                    }
                }
            }
        case .claimTimer(let unit, let epoch):
            step(unit, .claimTimerFired(epoch: epoch), now: now, in: &group)
        case .claimResult(let unit, let result, let startedAt):
            storeCallsRunning -= 1
            guard machines[unit] != nil else { return }
            switch result {
            case .success(.claimed(let token)):
                Counter(label: ClusterMetrics.claims, dimensions: [("result", "claimed")]).increment()
                logger.info("claimed", metadata: ["unit": "\(unit)", "token": "\(token)", "ms": "\(now.duration(since: startedAt))"])
                holders[unit] = OwnershipHolder(host: cluster.host, token: token, isOurs: true)
                step(unit, .claimSucceeded(token), now: now, in: &group)
            case .success(.taken(let record)):
                Counter(label: ClusterMetrics.claims, dimensions: [("result", "taken")]).increment()
                let holder = record.map(holder(of:))
                if let holder { holders[unit] = holder }
                step(unit, .claimTaken(holder), now: now, in: &group)
            case .failure(let error):
                Counter(label: ClusterMetrics.claims, dimensions: [("result", "failed")]).increment()
                logger.warning("claim failed", metadata: ["unit": "\(unit)", "error": "\(error)"])
                step(unit, .claimFailed, now: now, in: &group)
            }
        case .releaseResult(let unit):
            storeCallsRunning -= 1
            step(unit, .releaseCompleted, now: now, in: &group)
        case .engineApplied:
            break  // the releases waiting for it go out after this input
        case .nicEligibility(let eligible):
            nicEligibilityChanged(eligible, now: now, in: &group)
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
            fencePastDeadline(now: now, in: &group)
        case .reload(let newConfiguration):
            configuration = newConfiguration
            units = ClusterUnits(newConfiguration)
            for name in units.names where machines[name] == nil {
                createMachine(name, now: now)
                step(name, .observed(holders[name]), now: now, in: &group)
            }
            engineDirty = true
            updateEligibility(now: now, in: &group, force: true)
        case .membershipPublished(let value, let stored):
            membershipPublished(value: value, stored: stored)
        case .rebalanceTick:
            publishAbilityIfNeeded(in: &group)
            rebalance(now: now, in: &group)
        case .stop:
            break
        }
    }

    /// The engine's answer to "can any NIC serve?" changed. The first answer usually comes
    /// before the adapters have reported (or with every link down at start): "no", with
    /// nothing held, as the coordinator assumed already; nothing to release and nothing to
    /// log, since the host claims nothing until a NIC can serve. A host that could serve and
    /// now cannot (every link lost), or that holds units, releases every unit and says so.
    private func nicEligibilityChanged(_ eligible: Bool, now: Instant, in group: inout DiscardingTaskGroup) {
        let held = machines.values.filter { $0.token != nil }.count
        guard eligible != nicEligible || (!eligible && held > 0) else { return }
        nicEligible = eligible
        if eligible {
            logger.info("a NIC can serve: claiming allowed")
        } else {
            logger.info("no NIC can serve: releasing every unit", metadata: ["units": "\(held)"])
        }
        updateEligibility(now: now, in: &group, force: true)
        publishAbilityIfNeeded(in: &group)
    }

    /// Past the lease's deadline without an acknowledged keepalive: stop answering (`fence`:
    /// the gate closed by itself at the deadline; `hold`: it closes now) and say so.
    private func fencePastDeadline(now: Instant, in group: inout DiscardingTaskGroup) {
        if cluster.onQuorumLoss == .hold { keeper.setHeldClosed(true) }
        holding = false
        fenced = true
        Counter(label: ClusterMetrics.fenceEvents, dimensions: [("cause", "deadline")]).increment()
        var metadata: Logger.Metadata = ["lease": "\(lease.map { "\($0.id)" } ?? "-")"]
        for (key, value) in keeper.times.metadata(now: now) { metadata[key] = "\(value)" }
        logger.error("fenced: no keepalive acknowledged before the deadline; not answering", metadata: metadata)
        for name in machines.keys.sorted() { step(name, .fenceDeadlinePassed, now: now, in: &group) }
    }

    /// One event of the lease keeper's loop (the keeper moved the gates already).
    private func handle(_ event: LeaseKeeper.Event, now: Instant, in group: inout DiscardingTaskGroup) {
        switch event {
        case .granted(let grant, let sentAt):
            if lease == nil, !settled {
                let (clock, post) = (self.clock, self.post)
                let settle = min(grant.ttl / 2, .milliseconds(500))
                group.addTask {
                    do { try await clock.sleep(until: clock.now().advanced(by: settle)) } catch { return }
                    post.yield(.settled)
                }
            }
            lease = grant
            armedLease = nil
            if gateReopenPending {
                logger.notice(
                    "new lease granted after the loss: claiming again; not answering until the lost lease's VIPs are withdrawn",
                    metadata: ["lease": "\(grant.id)", "ttl": "\(grant.ttl)"])
            } else {
                logger.info("lease granted", metadata: ["lease": "\(grant.id)", "ttl": "\(grant.ttl)"])
            }
            acknowledge(sentAt: sentAt, ttl: grant.ttl, now: now, in: &group)
            updateEligibility(now: now, in: &group, force: true)
        case .acknowledged(let sentAt, let ttl):
            acknowledge(sentAt: sentAt, ttl: ttl, now: now, in: &group)
        case .lost:
            // The keeper closed the gate already; it stays closed until the VIPs are withdrawn.
            armedLease = nil
            withdrawalPending = true
            holding = false
            Counter(label: ClusterMetrics.fenceEvents, dimensions: [("cause", "lease_lost")]).increment()
            logger.error("lease lost: fenced at once, VIPs withdrawn", metadata: ["lease": "\(lease.map { "\($0.id)" } ?? "-")"])
            lease = nil
            // The machines go unowned: nothing waits for `leaseConfirmed` (a fence before the
            // loss ends with it). The new lease's gate opening is logged in armGateIfReady.
            fenced = false
            gateReopenPending = true
            balance.leaseLost()
            for name in machines.keys.sorted() { step(name, .leaseLost, now: now, in: &group) }
        case .failed(let error):
            storeFailed(error, now: now, in: &group)
        }
    }

    /// A keepalive, a grant or the watch's listing failed: remember whether an endpoint
    /// answered (`hold` fences only then), and say so once.
    private func storeFailed(_ error: OwnershipStoreError, now: Instant, in group: inout DiscardingTaskGroup) {
        if case .unreachable = error {} else {
            storeAnsweredWithError = true
            etcdError = "\(error)"
        }
        // `hold` serves past the deadline only while no endpoint answers at all: one that
        // answers with an error ends the holding at once. Whether to hold is decided at the
        // deadline (.fenceDeadlineReached); an unreachable endpoint changes nothing here, and
        // a host fenced because an endpoint answered stays fenced until a keepalive is
        // acknowledged (before, any later "unreachable" reopened it).
        if holding, storeAnsweredWithError {
            logger.error("an etcd endpoint answers again (with an error): no longer holding", metadata: ["error": "\(error)"])
            fencePastDeadline(now: now, in: &group)
        }
        if case .unauthenticated = error {
            // A configuration error: say so once, clearly; retries go on (the user or its
            // password may be fixed in etcd) and status shows it until a lease is held.
            if !credentialsRefused {
                credentialsRefused = true
                logger.error(
                    "etcd refused our credentials: check cluster.etcd.username and password, and the user's role on the key prefix; retrying",
                    metadata: ["user": "\(cluster.etcd.username ?? "-")", "error": "\(error)"])
            }
            Counter(label: ClusterMetrics.etcdErrors, dimensions: [("kind", "unauthenticated")]).increment()
            return
        }
        if !storeFailing {
            storeFailing = true
            logger.warning("etcd call failed; retrying every 50 ms (logged once until it answers)", metadata: ["error": "\(error)"])
        }
    }

    /// A grant or an acknowledged keepalive: etcd answers again. A host fenced at the
    /// deadline of a lease that is still alive answers again at once (the keeper moved the
    /// gate already), and its machines hear `leaseConfirmed`.
    private func acknowledge(sentAt: Instant, ttl: Duration, now: Instant, in group: inout DiscardingTaskGroup) {
        if storeFailing {
            storeFailing = false
            logger.notice("etcd answers again")
        }
        storeAnsweredWithError = false
        // etcd 3.4 renews leases for anonymous clients even with auth on: refused credentials
        // are cleared by a successful listing (.snapshot), not by a keepalive.
        if !credentialsRefused { etcdError = nil }
        // The keeper already moved the lease deadline (and, with `fence`, the answer gate).
        let deadline = sentAt.advanced(by: ttl - fenceGuard)
        if cluster.onQuorumLoss == .hold {
            // The gate stays open: the coordinator closes it when the deadline passes while an
            // endpoint answers (fenceDeadlineReached), or the keeper when the lease is gone.
            if now < deadline { keeper.setHeldClosed(false) }
            if holding {
                holding = false
                logger.notice("etcd answers again: no longer holding")
            }
        }
        Gauge(label: ClusterMetrics.leaseRemaining).record(Double(deadline.duration(since: now).nanosecondsClamped) / 1e9)
        guard fenced, now < deadline else { return }
        fenced = false
        logger.notice("lease confirmed again: answering", metadata: ["lease": "\(lease.map { "\($0.id)" } ?? "-")"])
        for name in machines.keys.sorted() { step(name, .leaseConfirmed, now: now, in: &group) }
    }

    /// Tells every machine whether this host may serve its unit, and its rank.
    private func updateEligibility(now: Instant, in group: inout DiscardingTaskGroup, force: Bool) {
        let hostEligible = nicEligible && lease != nil && snapshotLoaded && settled && !stopping
        let configured = Set(units.names)
        for name in machines.keys.sorted() {
            let rank = balance.membership.rank(unit: name, preferred: units.preferredHosts[name] ?? [])
            let eligible = hostEligible && configured.contains(name)
            guard force || machines[name]!.eligible != eligible || machines[name]!.rank != rank else { continue }
            step(name, .eligibilityChanged(eligible: eligible, rank: rank), now: now, in: &group)
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

    /// Creates `unit`'s machine and records its creation in the trace.
    private func createMachine(_ unit: String, now: Instant) {
        let machine = OwnershipStateMachine(unit: unit, host: cluster.host, settings: settings)
        machines[unit] = machine
        trace?.record(
            .unit(unit), event: .ownershipCreated(OwnershipCreation(host: cluster.host, settings: settings)), at: now, from: "",
            to: machine.description, action: "none")
    }

    /// Feeds `event` to `unit`'s machine, records the transition in the trace, and runs its action.
    func step(_ unit: String, _ event: OwnershipEvent, now: Instant, in group: inout DiscardingTaskGroup) {
        guard var machine = machines[unit] else { return }
        let from = machine.description
        let action: OwnershipAction
        do {
            action = try machine.handle(event, now: now)
        } catch {
            machines[unit] = machine
            trace?.record(.unit(unit), event: .ownership(event), at: now, from: from, to: machine.description, action: "unreachable(\(error.event))")
            logger.error("ownership machine isolated after a bug", metadata: ["unit": "\(unit)", "error": "\(error)"])
            return
        }
        machines[unit] = machine
        trace?.record(.unit(unit), event: .ownership(event), at: now, from: from, to: machine.description, action: action.description)
        run(action, unit: unit, now: now, in: &group)
    }

    /// Performs one machine action: engine first, then store, then timer.
    private func run(_ action: OwnershipAction, unit: String, now: Instant, in group: inout DiscardingTaskGroup) {
        switch action.engine {
        case .activate(let token)?:
            logger.info("owner: activating", metadata: ["unit": "\(unit)", "token": "\(token)"])
            if activeUnits.insert(unit).inserted {
                engineDirty = true
                changesSinceApply += 1
            }
        case .deactivate?:
            logger.info("not owner: withdrawing", metadata: ["unit": "\(unit)"])
            if activeUnits.remove(unit) != nil {
                engineDirty = true
                changesSinceApply += 1
            }
        case nil: break
        }
        let post = self.post
        switch action.store {
        case .claim?:
            storeCalls.append(.claim(unit: unit, decidedAt: now))
        case .release(let token)?:
            decidedReleases.append((unit, token))
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

    /// Sends the releases whose VIPs the engine has withdrawn (it applied the generation that
    /// followed their decision), so this host has stopped answering before another host can claim.
    private func sendPendingReleases(in group: inout DiscardingTaskGroup) {
        for (unit, token) in decidedReleases { pendingReleases.append((unit, token, engineGeneration)) }
        decidedReleases.removeAll()
        guard pendingReleases.contains(where: { $0.generation <= appliedGeneration }) else { return }
        var waiting: [(unit: String, token: FencingToken, generation: UInt64)] = []
        for release in pendingReleases {
            guard release.generation <= appliedGeneration else {
                waiting.append(release)
                continue
            }
            storeCalls.append(.release(unit: release.unit, token: release.token))
        }
        pendingReleases = waiting
    }

    /// Starts queued claims and releases while fewer than ``storeCallsInFlight`` run. Each
    /// started call posts exactly one result, which frees its slot.
    private func launchStoreCalls(in group: inout DiscardingTaskGroup) {
        let (store, post, host) = (self.store, self.post, cluster.host)
        while storeCallsRunning < Self.storeCallsInFlight, let call = storeCalls.popFirst() {
            storeCallsRunning += 1
            switch call {
            case .claim(let unit, let decidedAt):
                guard let lease, !keeper.isStopping else {
                    post.yield(.claimResult(unit: unit, .failure(.unreachable("no lease yet")), startedAt: decidedAt))
                    continue
                }
                let key = keys.unitKey(unit)
                group.addTask {
                    do throws(OwnershipStoreError) {
                        let outcome = try await store.claim(key: key, value: host, lease: lease.id)
                        post.yield(.claimResult(unit: unit, .success(outcome), startedAt: decidedAt))
                    } catch {
                        post.yield(.claimResult(unit: unit, .failure(error), startedAt: decidedAt))
                    }
                }
            case .release(let unit, let token):
                let key = keys.unitKey(unit)
                group.addTask {
                    _ = try? await store.release(key: key, token: token)
                    post.yield(.releaseResult(unit: unit))
                }
            }
        }
    }

    /// After an input that changed the owned set: a new generation, and the apply loop
    /// started unless it runs already (then it picks the new generation up when done).
    private func startApplyIfNeeded(in group: inout DiscardingTaskGroup) {
        guard engineDirty else { return }
        engineDirty = false
        engineGeneration += 1
        guard !applyRunning, !stopping else { return }
        applyRunning = true
        group.addTask { await self.applyLoop() }
    }

    /// Applies the owned set until the engine has the latest generation: one apply covers
    /// every change that arrived while the previous one ran.
    private func applyLoop() async {
        while appliedGeneration < engineGeneration, !stopping {
            let generation = engineGeneration
            let changes = changesSinceApply
            changesSinceApply = 0
            let owned = ownedConfiguration()
            let started = clock.now()
            _ = await engine.apply(owned)
            appliedGeneration = max(appliedGeneration, generation)
            Counter(label: ClusterMetrics.engineApplies).increment()
            logger.info(
                "owned VIPs applied",
                metadata: ["units": "\(activeUnits.count)", "vips": "\(owned.vips.count)", "changes": "\(changes)",
                           "ms": "\(clock.now().duration(since: started))"])
            post.yield(.engineApplied)
        }
        applyRunning = false
    }

    /// The configuration restricted to the owned units' VIPs.
    private func ownedConfiguration() -> DaemonConfiguration {
        var owned = configuration
        owned.vips = activeUnits.sorted().flatMap { units.vips[$0] ?? [] }
        // Ownership is arbitrated by etcd and fenced by the lease: no RFC 5227 probe before a takeover.
        owned.conflicts.probeWait = .zero
        return owned
    }

    /// Lets the answer gate follow the current lease once nothing of a lost lease is served;
    /// after a loss, logs the moment the gate opens again (the host answers from then on).
    private func armGateIfReady() {
        if withdrawalPending {
            withdrawalPending = false
            withdrawGeneration = engineGeneration
        }
        guard let lease, armedLease != lease.id, !stopping, appliedGeneration >= withdrawGeneration else { return }
        guard keeper.arm(lease.id) else { return }
        armedLease = lease.id
        if gateReopenPending {
            gateReopenPending = false
            logger.notice("answer gate open under the new lease: answering for the units it owns", metadata: ["lease": "\(lease.id)", "units": "\(activeUnits.count)"])
        }
    }

    private func stop(_ outcome: LeaseKeeper.StopOutcome?) async {
        stopping = true
        keeper.disarm()  // closed already by the shutdown handler; here for a cancellation
        let owned = activeUnits.count
        switch outcome {
        case .revoked(_, let took)?:
            logger.notice("stopping: lease revoked, every unit released", metadata: ["units": "\(owned)", "ms": "\(took)"])
        case .failed(_, let error)?:
            logger.warning("stopping: revoking the lease failed; its keys expire with it", metadata: ["error": "\(error)"])
        case .noLease?, nil:
            break
        }
        self.lease = nil
        activeUnits = []
        // Wait for a running apply (bounded), then withdraw everything in one last apply.
        for _ in 0..<2_000 where applyRunning {
            try? await Task.sleep(for: .milliseconds(5))
        }
        _ = await engine.apply(ownedConfiguration())
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
    /// Keepalive calls by result (acknowledged, failed, lease_gone); a failed call may have
    /// posted to several endpoints, and etcd may have renewed the lease before the reply timed out.
    public static let keepalives = "proxyarpd_cluster_keepalives_total"
    /// etcd round trip of each successful call.
    public static let etcdRoundTrip = "proxyarpd_cluster_etcd_round_trip_seconds"
    /// Watch restarts (compaction, silence, connection loss).
    public static let watchRestarts = "proxyarpd_cluster_watch_restarts_total"
    /// Applies of the owned VIP set to the engine (each covers every change since the last).
    public static let engineApplies = "proxyarpd_cluster_engine_applies_total"
    /// 1 while `on_quorum_loss: hold` keeps serving without an acknowledged keepalive, else 0.
    public static let holding = "proxyarpd_cluster_holding"
    /// etcd calls answered with an error that is not "unreachable", by kind (unauthenticated).
    public static let etcdErrors = "proxyarpd_cluster_etcd_errors_total"
}
