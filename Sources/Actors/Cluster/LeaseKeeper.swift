import Logging
import Metrics
import ProxyARPCore
import Synchronization

/// Keeps the host's lease alive and is the one writer of the fence gates, so an
/// acknowledged keepalive reaches the answer path without waiting for the coordinator.
///
/// The loop (grant, register the host key, keepalive every `interval`) runs on a
/// ``DedicatedTaskThread`` when one is given: its sleeps, its HTTP replies and the gate
/// update happen on that thread, never queued behind the cooperative pool, which may be
/// busy activating tens of thousands of VIPs (at 100,000 VIPs over three hosts the
/// keepalives of the pool-bound loop went out up to 1.5 s late and their replies waited
/// up to 0.8 s for the coordinator: every host fenced and lost its lease).
///
/// After each acknowledged keepalive the lease deadline becomes its send time (monotonic,
/// taken before the request) + the TTL the server returned − `fenceGuard`, and, under
/// `on_quorum_loss: fence`, the answer gate gets the same deadline at once. A reply
/// without TTL closes the gate at once. The coordinator decides when the gate may follow
/// a lease at all (``arm(_:)``: after a lease loss, only once the engine has withdrawn
/// the lost lease's VIPs), and under `hold` when it is held closed (``setHeldClosed(_:)``).
/// Every gate write happens under one lock, from one rule: see `publish`.
final class LeaseKeeper: Sendable {
    /// What the loop tells the coordinator (after the gates are already updated).
    enum Event: Sendable {
        case granted(LeaseGrant, sentAt: Instant)
        case acknowledged(sentAt: Instant, ttl: Duration)
        case lost
        case failed(OwnershipStoreError)
    }

    /// What ``stop()`` did.
    enum StopOutcome: Sendable {
        /// No lease was held.
        case noLease
        /// The lease was revoked (every key under it deleted) in this time.
        case revoked(LeaseID, Duration)
        /// The revoke failed: the keys expire with the lease.
        case failed(LeaseID, OwnershipStoreError)
    }

    private struct State: Sendable {
        /// The lease the loop keeps (nil: none yet, or lost).
        var lease: LeaseID?
        /// The coordinator lets the answer gate follow `lease`.
        var armed = false
        /// `hold`: the coordinator fenced (the deadline passed while an endpoint answered).
        var heldClosed = false
        /// A graceful stop began: no more keepalives, grants or events.
        var stopping = false
    }

    private let store: any OwnershipStore
    private let clock: any EngineClock
    private let thread: (any DedicatedTaskThread)?
    private let ttl: Duration
    private let fenceGuard: Duration
    private let policy: QuorumLossPolicy
    private let answerGate: FenceGate
    private let logger: Logger
    /// The lease's own deadline, whatever the policy (the coordinator's fence loop and status read it).
    let leaseDeadline = FenceGate()
    /// When the last keepalive was due, sent, answered and applied (for the fence log line).
    let times = KeepaliveTimes()
    private let state = Mutex(State())

    /// Creates the keeper; the answer gate stays closed until a lease is armed.
    init(
        store: any OwnershipStore, clock: any EngineClock, thread: (any DedicatedTaskThread)?, ttl: Duration,
        fenceGuard: Duration, policy: QuorumLossPolicy, answerGate: FenceGate, logger: Logger
    ) {
        self.logger = logger
        self.store = store
        self.clock = clock
        self.thread = thread
        self.ttl = ttl
        self.fenceGuard = fenceGuard
        self.policy = policy
        self.answerGate = answerGate
        leaseDeadline.close()
        answerGate.close()
    }

    /// The keepalive period: a quarter of the TTL, at least 100 ms.
    var interval: Duration { max(.milliseconds(100), ttl / 4) }

    // MARK: The coordinator's side

    /// Lets the answer gate follow `lease` (the coordinator saw it granted and nothing of an
    /// earlier lease is still served). False when the loop no longer keeps that lease.
    func arm(_ lease: LeaseID) -> Bool {
        state.withLock { state in
            guard state.lease == lease else { return false }
            state.armed = true
            publish(state)
            return true
        }
    }

    /// True once ``stop()`` began.
    var isStopping: Bool { state.withLock { $0.stopping } }

    /// Graceful stop: closes the answer gate, ends the keepalives and revokes the lease, so
    /// its keys go in one revision and the next hosts take over at once, not a TTL later.
    /// On the keeper's thread: the revoke does not wait for the cooperative pool either.
    func stop() async -> StopOutcome {
        let lease = state.withLock { state in
            state.stopping = true
            state.armed = false
            publish(state)
            return state.lease
        }
        guard let lease else { return .noLease }
        if let thread {
            return await withTaskExecutorPreference(thread) { await self.revoke(lease) }
        }
        return await revoke(lease)
    }

    private func revoke(_ lease: LeaseID) async -> StopOutcome {
        let started = clock.now()
        do {
            try await store.revokeLease(lease)
            return .revoked(lease, clock.now().duration(since: started))
        } catch {
            return .failed(lease, error)
        }
    }

    /// Closes the answer gate until the next ``arm(_:)`` (a lost lease, a graceful stop).
    func disarm() {
        state.withLock { state in
            state.armed = false
            publish(state)
        }
    }

    /// `hold`: closes (true) or reopens (false) the answer gate of the armed lease.
    func setHeldClosed(_ closed: Bool) {
        state.withLock { state in
            state.heldClosed = closed
            publish(state)
        }
    }

    /// Sets the answer gate from `state`: closed unless armed; `fence`: the lease's
    /// deadline; `hold`: open unless the coordinator holds it closed. Called under the lock.
    private func publish(_ state: State) {
        guard state.armed, state.lease != nil else {
            answerGate.close()
            return
        }
        switch policy {
        case .fence: answerGate.setDeadline(nanoseconds: leaseDeadline.deadlineNanoseconds)
        case .hold: if state.heldClosed { answerGate.close() } else { answerGate.open() }
        }
    }

    // MARK: The loop

    /// Grants, registers `hostKey` and keeps the lease alive until cancelled, on the
    /// dedicated thread when there is one; `post` hears every event after the gates moved.
    func run(hostKey: String, host: String, post: @escaping @Sendable (Event) -> Void) async {
        if let thread {
            await withTaskExecutorPreference(thread) { await self.loop(hostKey: hostKey, host: host, post: post) }
        } else {
            await loop(hostKey: hostKey, host: host, post: post)
        }
    }

    private func sleep(until deadline: Instant) async throws {
        if let thread { try await thread.sleep(until: deadline) } else { try await clock.sleep(until: deadline) }
    }

    private func loop(hostKey: String, host: String, post: @escaping @Sendable (Event) -> Void) async {
        // After a graceful stop's revoke nothing more is posted: no lease lost, no new grant.
        let post: @Sendable (Event) -> Void = { [self] event in if !isStopping { post(event) } }
        while !Task.isCancelled, !isStopping {
            let sentAt = clock.now()
            let grant: LeaseGrant
            do {
                grant = try await store.grantLease(ttl: ttl)
            } catch {
                post(.failed(error))
                try? await sleep(until: clock.now().advanced(by: .milliseconds(200)))
                continue
            }
            granted(grant, sentAt: sentAt)
            post(.granted(grant, sentAt: sentAt))
            var pause = interval
            // The host key is registered beside the keepalives (at start it waits behind the
            // unit claims), so it never delays one.
            await withDiscardingTaskGroup { group in
                group.addTask { await self.register(hostKey: hostKey, host: host, lease: grant.id) }
                keepalive: while !Task.isCancelled, !isStopping {
                    let due = clock.now().advanced(by: pause)
                    do { try await sleep(until: due) } catch { return }
                    let sentAt = clock.now()
                    times.recordSent(due: due, sent: sentAt)
                    do throws(OwnershipStoreError) {
                        guard let ttl = try await store.keepAlive(grant.id) else {
                            Counter(label: ClusterMetrics.keepalives, dimensions: [("result", "lease_gone")]).increment()
                            lost(grant.id)
                            post(.lost)
                            break keepalive
                        }
                        let answeredAt = clock.now()
                        Counter(label: ClusterMetrics.keepalives, dimensions: [("result", "acknowledged")]).increment()
                        times.recordAnswered(answeredAt)
                        acknowledged(grant.id, sentAt: sentAt, ttl: ttl)
                        if answeredAt.duration(since: due) > ttl / 2 {  // half the lease gone: worth a line
                            logger.warning(
                                "keepalive late", metadata: [
                                    "sent_late": "\(sentAt.duration(since: due))", "round_trip": "\(answeredAt.duration(since: sentAt))",
                                ])
                        }
                        post(.acknowledged(sentAt: sentAt, ttl: ttl))
                        pause = interval
                    } catch {
                        // Retry soon (an etcd leader election answers again within about a second).
                        Counter(label: ClusterMetrics.keepalives, dimensions: [("result", "failed")]).increment()
                        post(.failed(error))
                        pause = .milliseconds(50)
                    }
                }
                group.cancelAll()
            }
        }
    }

    /// Registers the host key under `lease` (membership), retrying every interval until it
    /// holds or the task is cancelled (a new lease, or the stop).
    private func register(hostKey: String, host: String, lease: LeaseID) async {
        while !Task.isCancelled, !isStopping {
            switch try? await store.claim(key: hostKey, value: host, lease: lease) {
            case .claimed?: return
            case .taken(let holder)? where holder?.lease == lease: return
            default: break  // an earlier instance's key, until its lease ends; or unreachable
            }
            do { try await sleep(until: clock.now().advanced(by: interval)) } catch { return }
        }
    }

    /// A new lease: its deadline counts from the grant's send time; the gate waits for ``arm(_:)``.
    private func granted(_ grant: LeaseGrant, sentAt: Instant) {
        state.withLock { state in
            guard !state.stopping else { return }
            state.lease = grant.id
            state.armed = false
            state.heldClosed = false
            leaseDeadline.setDeadline(sentAt.advanced(by: grant.ttl - fenceGuard))
            publish(state)
        }
    }

    /// An acknowledged keepalive of `lease`, sent at `sentAt`: the deadline moves on.
    private func acknowledged(_ lease: LeaseID, sentAt: Instant, ttl: Duration) {
        state.withLock { state in
            guard state.lease == lease else { return }
            leaseDeadline.setDeadline(sentAt.advanced(by: ttl - fenceGuard))
            publish(state)
        }
        times.recordApplied(clock.now())
    }

    /// The lease is gone: closed at once, until a new lease is armed.
    private func lost(_ lease: LeaseID) {
        state.withLock { state in
            guard state.lease == lease else { return }
            state.lease = nil
            state.armed = false
            leaseDeadline.close()
            publish(state)
        }
    }
}
