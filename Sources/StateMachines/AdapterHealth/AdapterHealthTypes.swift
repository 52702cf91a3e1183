import ProxyARPCore

/// Why an adapter may not serve as a proxy agent.
public enum IneligibleReason: String, Sendable, Hashable, Codable, CaseIterable {
    /// No link report yet.
    case unknown
    /// The interface is administratively down (`IFF_UP` clear).
    case adminDown
    /// Up, but no carrier (`IFF_RUNNING` clear / operstate down).
    case noCarrier
    /// Consecutive transmit errors reached the threshold.
    case transmitErrors
    /// Announcements sent through it were never heard on the segment.
    case unconfirmedAnnouncements
    /// Healthy again, but waiting out the hold-down after a failure.
    case holdDown
    /// The interface disappeared (`RTM_DELLINK`).
    case removed
    /// Isolated after a bug in our own code.
    case failed
}

/// Settings of the adapter health machine.
public struct AdapterHealthSettings: Sendable, Hashable, Codable {
    /// Base hold-down after a failure.
    public var holdDown: Duration
    /// Failures within this window lengthen the hold-down (flap damping).
    public var flapWindow: Duration
    /// The hold-down never exceeds `holdDown * maxHoldDownFactor`.
    public var maxHoldDownFactor: Int
    /// Consecutive transmit errors that make the adapter ineligible.
    public var transmitErrorThreshold: Int

    /// Creates settings; defaults: 60 s flap window, factor 16, 3 transmit errors.
    public init(
        holdDown: Duration,
        flapWindow: Duration = .seconds(60),
        maxHoldDownFactor: Int = 16,
        transmitErrorThreshold: Int = 3
    ) {
        self.holdDown = holdDown
        self.flapWindow = flapWindow
        self.maxHoldDownFactor = maxHoldDownFactor
        self.transmitErrorThreshold = transmitErrorThreshold
    }
}

/// Every event the adapter health machine accepts, as a value for trace and replay.
public enum AdapterHealthEvent: Sendable, Equatable, Codable {
    /// rtnetlink reported the link's admin state and carrier.
    case linkChanged(adminUp: Bool, carrier: Bool, now: Instant)
    /// The link disappeared.
    case linkRemoved(now: Instant)
    /// A frame could not be sent.
    case transmitFailed(now: Instant)
    /// A frame was sent.
    case transmitSucceeded(now: Instant)
    /// A VIP's announcements through this adapter were never confirmed.
    case announcementsUnconfirmed(now: Instant)
    /// The hold-down timer of attempt `epoch` fired.
    case holdDownExpired(epoch: UInt64, now: Instant)

    /// The event's name.
    public var name: String {
        switch self {
        case .linkChanged: "linkChanged"
        case .linkRemoved: "linkRemoved"
        case .transmitFailed: "transmitFailed"
        case .transmitSucceeded: "transmitSucceeded"
        case .announcementsUnconfirmed: "announcementsUnconfirmed"
        case .holdDownExpired: "holdDownExpired"
        }
    }
}
