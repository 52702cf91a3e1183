/// What a trace record is about.
public enum TraceSubject: Sendable, Hashable, Codable {
    /// One VIP's activation machine.
    case vip(IPAddress)
    /// One adapter's health machine.
    case adapter(AdapterName)
    /// The agent selector.
    case selector
    /// One cluster ownership unit's machine (cluster mode): the unit's name, a VIP
    /// (`198.18.0.100`) or a selection block (`198.18.0.64/26`).
    case unit(String)

    /// A short label for logs and filters: the VIP, the adapter name, `selector`, or the unit.
    public var label: String {
        switch self {
        case .vip(let address): address.description
        case .adapter(let name): name.rawValue
        case .selector: "selector"
        case .unit(let name): name
        }
    }
}

/// One transition of one machine, as kept in the trace ring and dumped as JSON Lines.
///
/// Generic over the event type so that Core does not need to know the machines; the
/// state-machine module fixes `Event` to its own event enum, which is what makes a dump
/// replayable into fresh machines.
public struct TraceRecord<Event: Sendable & Codable & Equatable>: Sendable, Codable, Equatable {
    /// Position in the trace, strictly increasing from 1.
    public var sequence: UInt64
    /// Monotonic time of the transition.
    public var monotonic: Instant
    /// Wall-clock time, nanoseconds since the Unix epoch.
    public var wallNanoseconds: Int64
    /// The machine that moved.
    public var subject: TraceSubject
    /// The event it received, with every argument.
    public var event: Event
    /// The state before, as a short name with its key fields.
    public var from: String
    /// The state after.
    public var to: String
    /// The action the machine returned, as text.
    public var action: String

    /// Creates a record.
    public init(
        sequence: UInt64,
        monotonic: Instant,
        wallNanoseconds: Int64,
        subject: TraceSubject,
        event: Event,
        from: String,
        to: String,
        action: String
    ) {
        self.sequence = sequence
        self.monotonic = monotonic
        self.wallNanoseconds = wallNanoseconds
        self.subject = subject
        self.event = event
        self.from = from
        self.to = to
        self.action = action
    }
}
