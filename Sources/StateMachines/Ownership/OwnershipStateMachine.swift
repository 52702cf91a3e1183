import ProxyARPCore

// Ownership of one cluster unit (a VIP, or a selection block when block_prefix_length < 32):
// may this host serve it? A pure value; the cluster coordinator runs its actions against the
// OwnershipStore and the engine.
//
// Inputs besides the events: `eligible` (this host has the unit configured and an eligible
// NIC for it, and is not stopping) and `rank` (this host's rendezvous rank for the unit),
// both given by `eligibilityChanged`.
//
// Transition table (→ state / action; "claim after rank" is: rank 0 → claiming / claim,
// rank k → waiting(now + k × step) / claimTimer):
//
//   unowned   + eligibilityChanged(eligible), key free      → claim after rank
//   unowned   + eligibilityChanged(not eligible)            → unowned / none
//   unowned   + observed(nil) (key deleted or absent)       → claim after rank if eligible, else unowned
//   unowned   + observed(other)                             → unowned(holder) / none
//   unowned   + observed(ours)  (a claim whose reply was lost) → owned / activate, or releasing / release if not eligible
//   waiting   + claimTimerFired(current epoch)              → claiming / claim
//   waiting   + claimTimerFired(stale epoch)                → waiting / none
//   waiting   + observed(other)                             → unowned(holder) / none
//   waiting   + observed(ours)                              → owned / activate
//   waiting   + eligibilityChanged(not eligible)            → unowned / none
//   waiting   + eligibilityChanged(eligible, rank)          → waiting / none (keeps its deadline)
//   claiming  + claimSucceeded(token)                       → owned / activate, or releasing / release if no longer eligible
//   claiming  + claimTaken(holder)                          → unowned(holder) / none
//   claiming  + claimFailed (store unreachable)             → waiting(now + retryDelay) / claimTimer, or unowned if not eligible
//   claiming  + observed(ours)                              → owned / activate (the watch was faster than the reply)
//   claiming  + observed(other or nil)                      → claiming / none (the reply settles it)
//   owned     + eligibilityChanged(not eligible)            → releasing / deactivate + release
//   owned     + observed(nil or other)                      → unowned / deactivate (+ claim after rank if eligible and free)
//   owned     + fenceDeadlinePassed                         → fenced / deactivate
//   owned     + leaseLost                                   → unowned / deactivate
//   owned, fenced, releasing + claimSucceeded(same token)   → none (the reply to a claim the watch
//                                                               already showed ours: the machine moved on)
//   owned     + handOver (another live host is the natural owner) → releasing / deactivate + release
//   fenced    + leaseConfirmed                              → owned / activate (the lease outlived the stall)
//   fenced    + leaseLost, observed(nil or other)           → unowned / none
//   fenced    + eligibilityChanged(not eligible)            → releasing / release
//   releasing + releaseCompleted                            → unowned(nil) / none (the DELETE, when it comes, may reclaim)
//   releasing + observed(nil or other)                      → releasing / none
//   any       + eligibilityChanged(eligible) in owned/claiming/releasing/fenced → none
//   any but owned/fenced + fenceDeadlinePassed, leaseConfirmed, leaseLost → none
//   any but owned + handOver                                → none (only a serving owner hands over;
//                                                               the coordinator decides when, see ClusterRebalancer)
//
// Invalid events:
//   * Untrusted input (what the store or its watch says: observed, claimTaken, claimFailed)
//     is never an error; an observation that contradicts our state is taken as the truth.
//   * Stale timers (an earlier epoch) and duplicate replies are `.none`.
//   * A claim timer outside waiting is stale (waiting can be left by an observation, which
//     does not disarm the timer): `.none`. A claim reply after the lease was lost
//     (claimSucceeded in unowned or waiting) is `.none`: the key dies with the lease.
//   * A bug in our own code — claimSucceeded in owned, fenced or releasing with another
//     token; releaseCompleted in waiting, claiming, owned or fenced — moves to
//     `failed`, asserts in debug, and throws: only this unit is isolated.

/// Ownership of one cluster unit by this host. A pure value.
public struct OwnershipStateMachine: Sendable, Equatable {
    /// The unit's ownership as this host knows it.
    public enum State: Sendable, Equatable {
        /// Another host holds the key, or nobody does; this host does not serve the unit.
        case unowned(Unowned)
        /// The key is free and this host will claim it at a deadline (its rank's delay).
        case waiting(Waiting)
        /// The claim transaction is in flight.
        case claiming
        /// This host holds the key: the unit's VIPs may be activated.
        case owned(Owned)
        /// This host held the key but its lease is past the fence deadline: not serving.
        case fenced(Owned)
        /// The guarded delete is in flight; not serving.
        case releasing(Owned)
        /// Isolated after a bug in our own code.
        case failed(UnreachableTransition)
    }

    /// Payload of `unowned`.
    public struct Unowned: Sendable, Equatable {
        /// Who holds the key (nil: nobody, as far as this host knows).
        public var holder: OwnershipHolder?
    }

    /// Payload of `waiting`.
    public struct Waiting: Sendable, Equatable {
        /// When the claim goes out.
        public var until: Instant
        /// The claim timer's epoch.
        public var epoch: UInt64
    }

    /// Payload of `owned`, `fenced` and `releasing`.
    public struct Owned: Sendable, Equatable {
        /// The claim's fencing token.
        public var token: FencingToken
    }

    /// The unit's key name (without the prefix), for traces.
    public let unit: String
    /// This host's name, which traces give as the owner in `owned`, `fenced` and `releasing`.
    public let host: String
    /// Claim timing.
    public let settings: OwnershipSettings
    /// The current state.
    public private(set) var state: State = .unowned(Unowned(holder: nil))
    /// Whether this host may serve the unit now.
    public private(set) var eligible = false
    /// This host's rendezvous rank for the unit.
    public private(set) var rank = 0
    private var epoch: UInt64 = 0
    /// Whether a bug-class event also trips `assertionFailure` (debug builds). True in the
    /// daemon; tests that probe bug cells and trace replays turn it off.
    public var assertsOnUnreachable = true

    /// A fresh machine of `host` (this host's name, for traces): unowned, not eligible.
    public init(unit: String, host: String = "", settings: OwnershipSettings = OwnershipSettings()) {
        self.unit = unit
        self.host = host
        self.settings = settings
    }

    /// True when the unit's VIPs may be served by this host.
    public var serves: Bool {
        if case .owned = state { return true }
        return false
    }

    /// The fencing token of this host's claim, while it holds one.
    public var token: FencingToken? {
        switch state {
        case .owned(let owned), .fenced(let owned), .releasing(let owned): owned.token
        default: nil
        }
    }

    // MARK: Events

    /// This host's eligibility or rank changed (configuration, NIC health, membership, stop).
    public mutating func eligibilityChanged(eligible: Bool, rank: Int, now: Instant) -> OwnershipAction {
        self.eligible = eligible
        self.rank = rank
        switch state {
        case .unowned(let unowned):
            guard eligible, unowned.holder == nil else { return .none }
            return claimAfterRank(now: now)
        case .waiting:
            if !eligible { state = .unowned(Unowned(holder: nil)) }
            return .none
        case .owned(let owned):
            guard !eligible else { return .none }
            state = .releasing(owned)
            return OwnershipAction(engine: .deactivate, store: .release(owned.token))
        case .fenced(let owned):
            guard !eligible else { return .none }
            state = .releasing(owned)
            return OwnershipAction(store: .release(owned.token))
        case .claiming, .releasing, .failed:
            return .none
        }
    }

    /// The store (list or watch) says who holds the key now; nil: nobody.
    public mutating func observed(_ holder: OwnershipHolder?, now: Instant) -> OwnershipAction {
        switch state {
        case .unowned, .waiting:
            if let holder, holder.isOurs { return tookOwnership(holder.token) }
            if let holder {
                state = .unowned(Unowned(holder: holder))
                return .none
            }
            if case .waiting = state { return .none }
            state = .unowned(Unowned(holder: nil))
            return eligible ? claimAfterRank(now: now) : .none
        case .claiming:
            if let holder, holder.isOurs { return tookOwnership(holder.token) }
            return .none
        case .owned(let owned):
            if let holder, holder.isOurs, holder.token == owned.token { return .none }
            state = .unowned(Unowned(holder: holder))
            var action = OwnershipAction(engine: .deactivate)
            if holder == nil, eligible {
                let claim = claimAfterRank(now: now)
                action.store = claim.store
                action.claimTimer = claim.claimTimer
            }
            return action
        case .fenced(let owned):
            if let holder, holder.isOurs, holder.token == owned.token { return .none }
            state = .unowned(Unowned(holder: holder))
            return .none
        case .releasing, .failed:
            return .none
        }
    }

    /// The claim timer armed with `epoch` fired.
    public mutating func claimTimerFired(epoch: UInt64, now: Instant) -> OwnershipAction {
        guard epoch == self.epoch, case .waiting = state else { return .none }
        state = .claiming
        return OwnershipAction(store: .claim)
    }

    /// The claim transaction created the key.
    public mutating func claimSucceeded(_ token: FencingToken, now: Instant) throws(UnreachableTransition) -> OwnershipAction {
        switch state {
        case .claiming:
            return tookOwnership(token)
        case .owned(let owned) where owned.token == token, .fenced(let owned) where owned.token == token,
            .releasing(let owned) where owned.token == token:
            // The watch showed the key ours before this reply came, and the machine has moved
            // on since (fenced, or releasing after a handover or a NIC loss): a late duplicate.
            return .none
        case .failed, .unowned, .waiting:
            return .none
        default:
            throw fail(event: "claimSucceeded(\(token))")
        }
    }

    /// The key already existed: `holder` has it.
    public mutating func claimTaken(by holder: OwnershipHolder?, now: Instant) -> OwnershipAction {
        guard case .claiming = state else { return .none }
        if let holder, holder.isOurs { return tookOwnership(holder.token) }
        state = .unowned(Unowned(holder: holder))
        if holder == nil, eligible { return claimAfterRank(now: now) }
        return .none
    }

    /// The claim could not be sent or its outcome is unknown.
    public mutating func claimFailed(now: Instant) -> OwnershipAction {
        guard case .claiming = state else { return .none }
        guard eligible else {
            state = .unowned(Unowned(holder: nil))
            return .none
        }
        return wait(until: now.advanced(by: settings.retryDelay))
    }

    /// The guarded delete finished (deleted, or the key was no longer ours).
    public mutating func releaseCompleted(now: Instant) throws(UnreachableTransition) -> OwnershipAction {
        switch state {
        case .releasing:
            state = .unowned(Unowned(holder: nil))
            return .none
        case .failed, .unowned:
            return .none  // unowned: the DELETE was observed before the reply
        default:
            throw fail(event: "releaseCompleted")
        }
    }

    /// Rebalancing: another live, settled host is the unit's natural owner (rendezvous rank
    /// 0, `preferred_hosts` first). An owner stops serving, then deletes its key guarded by
    /// its token; the natural owner claims at once on the DELETE (rank 0), and this host,
    /// ranked after it, claims only if it does not. Any other state: nothing.
    public mutating func handOver(now: Instant) -> OwnershipAction {
        guard case .owned(let owned) = state else { return .none }
        state = .releasing(owned)
        return OwnershipAction(engine: .deactivate, store: .release(owned.token))
    }

    /// The lease's fence deadline passed without an acknowledged keepalive.
    public mutating func fenceDeadlinePassed(now: Instant) -> OwnershipAction {
        guard case .owned(let owned) = state else { return .none }
        state = .fenced(owned)
        return OwnershipAction(engine: .deactivate)
    }

    /// A keepalive was acknowledged with a TTL again: the lease, and so the key, still exist.
    public mutating func leaseConfirmed(now: Instant) -> OwnershipAction {
        guard case .fenced(let owned) = state else { return .none }
        state = .owned(owned)
        return OwnershipAction(engine: .activate(owned.token))
    }

    /// The lease is gone (a keepalive reply without TTL, or revoked): so is the key.
    public mutating func leaseLost(now: Instant) -> OwnershipAction {
        switch state {
        case .owned:
            state = .unowned(Unowned(holder: nil))
            return OwnershipAction(engine: .deactivate)
        case .fenced, .claiming, .waiting:
            state = .unowned(Unowned(holder: nil))
            return .none
        default:
            return .none
        }
    }

    // MARK: Helpers

    private mutating func tookOwnership(_ token: FencingToken) -> OwnershipAction {
        let owned = Owned(token: token)
        guard eligible else {
            state = .releasing(owned)
            return OwnershipAction(store: .release(token))
        }
        state = .owned(owned)
        return OwnershipAction(engine: .activate(token))
    }

    private mutating func claimAfterRank(now: Instant) -> OwnershipAction {
        if rank == 0 {
            state = .claiming
            return OwnershipAction(store: .claim)
        }
        return wait(until: now.advanced(by: settings.takeoverStep * rank))
    }

    private mutating func wait(until deadline: Instant) -> OwnershipAction {
        epoch &+= 1
        state = .waiting(Waiting(until: deadline, epoch: epoch))
        return OwnershipAction(claimTimer: .init(epoch: epoch, deadline: deadline))
    }

    private mutating func fail(event: String) -> UnreachableTransition {
        let error = UnreachableTransition(state: stateName, event: event)
        state = .failed(error)
        if assertsOnUnreachable { assertionFailure("unreachable ownership transition of \(unit): \(error)") }
        return error
    }

    /// The state's name, for traces and status.
    public var stateName: String {
        switch state {
        case .unowned: "unowned"
        case .waiting: "waiting"
        case .claiming: "claiming"
        case .owned: "owned"
        case .fenced: "fenced"
        case .releasing: "releasing"
        case .failed: "failed"
        }
    }
}
