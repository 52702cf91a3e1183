import ProxyARPCore

/// The adapter chosen to answer for a VIP, as the activation machine needs to know it.
public struct Agent: Sendable, Hashable, Codable {
    /// The adapter's kernel name.
    public var name: AdapterName
    /// The adapter's MAC: the sender of the VIP's gratuitous ARPs and replies.
    public var mac: MACAddress
    /// The adapter's own IPv4 address, recorded on activation (step 6); nil when it has none.
    public var localAddress: IPv4Address?
    /// How an announcement through this agent is confirmed.
    public var confirmation: ConfirmationPolicy

    /// Creates an agent description.
    public init(name: AdapterName, mac: MACAddress, localAddress: IPv4Address?, confirmation: ConfirmationPolicy) {
        self.name = name
        self.mac = mac
        self.localAddress = localAddress
        self.confirmation = confirmation
    }
}

/// Which evidence confirms that an agent's announcement reached the segment.
public enum ConfirmationPolicy: String, Sendable, Hashable, Codable {
    /// Another managed adapter on the same segment must hear it (the strong form).
    case sibling
    /// No sibling shares the segment: a copy seen on the agent's own capture or a
    /// successful transmit is accepted, and the trace says so.
    case transmit
}

/// The evidence that actually confirmed an announcement, kept for status and the trace.
public enum Confirmation: Sendable, Hashable, Codable {
    /// Heard on another managed adapter.
    case heardBySibling(AdapterName)
    /// Heard on the agent's own capture (outbound copy).
    case outboundCopy
    /// The transmit succeeded; nothing on the segment could hear it.
    case transmitted
}

/// Why a VIP waits in `pending`.
public enum PendingReason: Sendable, Hashable, Codable {
    /// Just configured; the selector has not answered yet.
    case awaitingSelection
    /// No managed adapter is up, has carrier and is out of hold-down.
    case noEligibleAdapter
    /// The agent failed (carrier loss, admin down, transmit errors); a new one is being selected.
    case agentLost(AdapterName)
    /// The agent's announcements were never confirmed; a new one is being selected.
    case agentUnconfirmed(AdapterName)
}

/// The timers a VIP arms.
public enum VIPTimerKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Waits for the first round's confirmation.
    case confirm
    /// The next announcement round, then the periodic refresh.
    case announce
    /// Ends a conflict: a contest clears, or a yielded VIP tries again, once claims stop.
    /// Not tied to an attempt: armed with epoch 0, it outlives a move to another agent.
    case conflict
}

/// A timer of one activation attempt. The epoch makes fires of an earlier attempt stale.
public struct VIPTimerID: Sendable, Hashable, Codable {
    /// Which timer.
    public var kind: VIPTimerKind
    /// The attempt it belongs to.
    public var epoch: UInt64

    /// Creates a timer id.
    public init(kind: VIPTimerKind, epoch: UInt64) {
        self.kind = kind
        self.epoch = epoch
    }
}

/// A timer to arm: fire `id` at `deadline`.
public struct ScheduledTimer: Sendable, Hashable, Codable {
    /// The timer.
    public var id: VIPTimerID
    /// When it fires.
    public var deadline: Instant

    /// Creates a schedule.
    public init(id: VIPTimerID, deadline: Instant) {
        self.id = id
        self.deadline = deadline
    }
}

/// One round of gratuitous ARPs to send: both forms, from `agent` for `vip`.
public struct Announcement: Sendable, Hashable, Codable {
    /// The VIP being announced (gratuitous ARP for IPv4, unsolicited Neighbor
    /// Advertisement for IPv6).
    public var vip: IPAddress
    /// The agent that sends and will answer.
    public var agent: Agent
    /// 1-based round of the announcement series (1 is the round that must be confirmed).
    public var round: Int
    /// 0 for the first transmission of round 1, then 1, 2... for retransmissions.
    public var retransmission: Int
    /// The activation attempt.
    public var epoch: UInt64

    /// Creates an announcement.
    public init(vip: IPAddress, agent: Agent, round: Int, retransmission: Int, epoch: UInt64) {
        self.vip = vip
        self.agent = agent
        self.round = round
        self.retransmission = retransmission
        self.epoch = epoch
    }
}

/// Per-VIP settings the machine needs: its timers and whether it may preempt.
public struct VIPActivationSettings: Sendable, Hashable, Codable {
    /// Rounds of gratuitous ARP per activation.
    public var announceCount: Int
    /// Gap between rounds.
    public var announceInterval: Duration
    /// Wait for confirmation of round 1.
    public var confirmTimeout: Duration
    /// Retransmissions of round 1 before the agent counts as unusable.
    public var confirmRetries: Int
    /// Period of refresh announcements while active; nil is off.
    public var refreshInterval: Duration?
    /// What to do when another host claims the VIP.
    public var conflicts: ConflictConfiguration

    /// Creates settings.
    public init(
        announceCount: Int,
        announceInterval: Duration,
        confirmTimeout: Duration,
        confirmRetries: Int,
        refreshInterval: Duration?,
        conflicts: ConflictConfiguration = ConflictConfiguration()
    ) {
        self.announceCount = announceCount
        self.announceInterval = announceInterval
        self.confirmTimeout = confirmTimeout
        self.confirmRetries = confirmRetries
        self.refreshInterval = refreshInterval
        self.conflicts = conflicts
    }

    /// The settings a ``TimerConfiguration`` and a ``ConflictConfiguration`` imply.
    public init(_ timers: TimerConfiguration, conflicts: ConflictConfiguration = ConflictConfiguration()) {
        self.init(
            announceCount: timers.announceCount,
            announceInterval: timers.announceInterval,
            confirmTimeout: timers.confirmTimeout,
            confirmRetries: timers.confirmRetries,
            refreshInterval: timers.refreshInterval,
            conflicts: conflicts
        )
    }
}

/// Raised by an event that our own code should never have delivered in the current state.
/// The machine has already moved to `failed`; the daemon isolates this VIP and lives on.
public struct UnreachableTransition: Error, Sendable, Hashable, Codable {
    /// The state the machine was in.
    public var state: String
    /// The event that could not happen there.
    public var event: String

    /// Creates the error.
    public init(state: String, event: String) {
        self.state = state
        self.event = event
    }
}
