import ProxyARPCore

/// What the activation machine remembers of foreign claims for its VIP, whatever its
/// state: RFC 5227 §2.4 bookkeeping (last defence, contest) and the log's rate limit.
public struct ConflictWatch: Sendable, Equatable {
    /// The MAC of the last claim counted.
    public var lastClaimBy: MACAddress?
    /// When the last claim was counted.
    public var lastClaimAt: Instant?
    /// When the VIP was last defended.
    public var lastDefenseAt: Instant?
    /// Set while the VIP is contested: claims keep coming although it was defended.
    public var contest: Contest?
    /// When the last conflict log line was written.
    public var lastLogAt: Instant?
    /// Claims counted since the last log line, not logged on their own.
    public var suppressed = 0

    /// Nothing seen.
    public init() {}
}

/// A ``ConflictWatch`` by reference, immutable (a change makes a new record): the machine
/// holds one only once a claim was seen. Equal when the watches are.
final class ConflictRecord: Sendable, Equatable {
    /// The watch.
    let watch: ConflictWatch

    init(_ watch: ConflictWatch) {
        self.watch = watch
    }

    static func == (lhs: ConflictRecord, rhs: ConflictRecord) -> Bool { lhs.watch == rhs.watch }
}

/// A VIP another host keeps claiming.
public struct Contest: Sendable, Equatable {
    /// The claimant's MAC (the latest one).
    public var claimedBy: MACAddress
    /// Since when the VIP is contested.
    public var since: Instant

    /// Creates a contest.
    public init(claimedBy: MACAddress, since: Instant) {
        self.claimedBy = claimedBy
        self.since = since
    }
}

/// Payload of the `conflict` state: the VIP yielded to another host and answers nothing.
public struct Conflicted: Sendable, Equatable {
    /// The claimant's MAC (the latest one).
    public var claimedBy: MACAddress
    /// When the VIP yielded.
    public var since: Instant
    /// When the last claim came: the VIP tries again `retryAfter` after it.
    public var lastClaimAt: Instant
    /// The last attempt number used.
    public var epoch: UInt64

    /// Creates the payload.
    public init(claimedBy: MACAddress, since: Instant, lastClaimAt: Instant, epoch: UInt64) {
        self.claimedBy = claimedBy
        self.since = since
        self.lastClaimAt = lastClaimAt
        self.epoch = epoch
    }
}

/// The payload of ``VIPActivationStateMachine/Action/conflict(_:)``: one counted claim and
/// what to do about it.
public struct ConflictResponse: Sendable, Hashable {
    /// Who claims the VIP.
    public var claimedBy: MACAddress
    /// Defend now: send both gratuitous forms through the agent.
    public var defend: Announcement?
    /// The VIP is contested (or yielded) after this claim.
    public var contested: Bool
    /// Write a log line now, saying how many claims were not logged since the last one;
    /// nil while the line is rate-limited.
    public var logSuppressed: Int?
    /// Arm the conflict timer (contest clears, or the yielded VIP retries).
    public var timer: ScheduledTimer?
    /// Yield: give back the proxy list, the binding and `lo`.
    public var yield: Release?

    /// Creates the payload.
    public init(
        claimedBy: MACAddress, defend: Announcement?, contested: Bool, logSuppressed: Int?, timer: ScheduledTimer?,
        yield: Release?
    ) {
        self.claimedBy = claimedBy
        self.defend = defend
        self.contested = contested
        self.logSuppressed = logSuppressed
        self.timer = timer
        self.yield = yield
    }
}
