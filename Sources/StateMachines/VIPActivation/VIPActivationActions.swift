import ProxyARPCore

/// The payload of ``VIPActivationStateMachine/Action/publish(_:)``: steps 5 and 6.
public struct Publication: Sendable, Hashable {
    /// The confirmed agent, to publish the VIP on.
    public var agent: Agent
    /// The agent whose outbound path is bound now, replaced make-before-break.
    public var replacing: AdapterName?
    /// Whether the VIP must first be made a local address (its first publish, or the
    /// first since a release removed it).
    public var addsLocalAddress: Bool
    /// The confirmation timer to cancel.
    public var cancel: VIPTimerID

    /// Creates the payload.
    public init(agent: Agent, replacing: AdapterName?, addsLocalAddress: Bool, cancel: VIPTimerID) {
        self.agent = agent
        self.replacing = replacing
        self.addsLocalAddress = addsLocalAddress
        self.cancel = cancel
    }
}

/// The payload of ``VIPActivationStateMachine/Action/activated(_:)``: what to report once
/// the VIP answers and its outbound path is bound.
public struct Activation: Sendable, Hashable {
    /// The agent now answering.
    public var agent: Agent
    /// The agent whose binding this one replaced, if any.
    public var previous: AdapterName?
    /// True when the VIP moved here from another agent (not its first activation).
    public var isFailover: Bool
    /// From the loss of the previous agent (or the machine's creation) to now.
    public var took: Duration
    /// The next announcement round (or the refresh), if any.
    public var timer: ScheduledTimer?

    /// Creates the payload.
    public init(agent: Agent, previous: AdapterName?, isFailover: Bool, took: Duration, timer: ScheduledTimer?) {
        self.agent = agent
        self.previous = previous
        self.isFailover = isFailover
        self.took = took
        self.timer = timer
    }
}

/// The payload of ``VIPActivationStateMachine/Action/requestAgent(_:)``.
public struct Reselection: Sendable, Hashable {
    /// The agent whose announcements were never confirmed: excluded, and reported to its
    /// health machine.
    public var unusable: AdapterName
    /// When round 1 through it was first sent (a sibling that heard the adapter since then
    /// proves it is not cut off).
    public var attemptStartedAt: Instant

    /// Creates the payload.
    public init(unusable: AdapterName, attemptStartedAt: Instant) {
        self.unusable = unusable
        self.attemptStartedAt = attemptStartedAt
    }
}

/// The payload of ``VIPActivationStateMachine/Action/release(_:)``.
public struct Release: Sendable, Hashable {
    /// The agent whose outbound path to unbind, if one is bound.
    public var unbind: AdapterName?
    /// Whether to remove the VIP from `lo`.
    public var removesLocalAddress: Bool
    /// Timers to cancel.
    public var cancel: [VIPTimerKind]

    /// Creates the payload.
    public init(unbind: AdapterName?, removesLocalAddress: Bool, cancel: [VIPTimerKind]) {
        self.unbind = unbind
        self.removesLocalAddress = removesLocalAddress
        self.cancel = cancel
    }
}
