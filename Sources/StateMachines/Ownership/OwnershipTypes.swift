import ProxyARPCore

/// What the store says about a unit's key: who holds it, under which claim.
public struct OwnershipHolder: Sendable, Hashable, Codable {
    /// The host name the key's value names.
    public var host: String
    /// The claim's fencing token (the key's create revision).
    public var token: FencingToken
    /// True when the key was written with this host's current lease: it is ours.
    public var isOurs: Bool

    /// Creates a holder.
    public init(host: String, token: FencingToken, isOurs: Bool) {
        self.host = host
        self.token = token
        self.isOurs = isOurs
    }
}

/// Timing of claims.
public struct OwnershipSettings: Sendable, Hashable, Codable {
    /// Delay per rank: the rank-k host claims a free unit `k × takeoverStep` after it saw the
    /// key go. Default 40 ms: above an etcd round trip on a LAN, so the rank-0 host's claim
    /// is committed before rank 1 tries.
    public var takeoverStep: Duration
    /// Wait before trying a claim again after the store could not be reached. Default 200 ms.
    public var retryDelay: Duration

    /// Creates the settings.
    public init(takeoverStep: Duration = .milliseconds(40), retryDelay: Duration = .milliseconds(200)) {
        self.takeoverStep = takeoverStep
        self.retryDelay = retryDelay
    }
}

/// What the engine must do for the unit.
public enum OwnershipEngineEffect: Sendable, Hashable {
    /// This host owns the unit: activate its VIPs through the engine.
    case activate(FencingToken)
    /// This host no longer may serve the unit: withdraw its VIPs at once.
    case deactivate
}

/// What the store must be asked.
public enum OwnershipStoreEffect: Sendable, Hashable {
    /// Try the create-if-absent transaction with this host's lease.
    case claim
    /// Delete the key, guarded by the token.
    case release(FencingToken)
}

/// The effects of one event: at most one of each kind, run engine first (stop answering
/// before the key is released), then store, then timer.
public struct OwnershipAction: Sendable, Hashable {
    /// For the engine.
    public var engine: OwnershipEngineEffect?
    /// For the store.
    public var store: OwnershipStoreEffect?
    /// Arm the claim timer: fire ``OwnershipStateMachine/claimTimerFired(epoch:now:)`` with
    /// this epoch at this instant (an earlier claim timer of the unit is stale from then on).
    public var claimTimer: ClaimTimer?

    /// A claim timer to arm.
    public struct ClaimTimer: Sendable, Hashable {
        /// The epoch to hand back.
        public var epoch: UInt64
        /// When.
        public var deadline: Instant

        /// Creates a timer.
        public init(epoch: UInt64, deadline: Instant) {
            self.epoch = epoch
            self.deadline = deadline
        }
    }

    /// Nothing to do.
    public static let none = OwnershipAction()

    /// Creates an action.
    public init(engine: OwnershipEngineEffect? = nil, store: OwnershipStoreEffect? = nil, claimTimer: ClaimTimer? = nil) {
        self.engine = engine
        self.store = store
        self.claimTimer = claimTimer
    }
}
