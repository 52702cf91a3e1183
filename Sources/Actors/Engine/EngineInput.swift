import ProxyARPCore

/// One input of the engine's run loop. Everything that makes the engine act arrives as
/// one of these, through the one ``EngineMailbox``: link events, capture observations,
/// the selector's decisions, timers that came due.
enum EngineInput: Sendable {
    /// rtnetlink reported a link.
    case link(LinkEvent)
    /// One capture batch's observations.
    case observations([HeardObservation])
    /// Decisions the selector made in one pass, to tell their VIPs (without waiting).
    case decisions([VIPDecision])
    /// A timer wants a sleeper until `deadline` (``EngineTimers``).
    case sleep(until: Instant)
    /// A sleeper woke: fire what is due.
    case timersDue
    /// The startup grace passed: activate the configured VIPs even if an adapter never
    /// reported.
    case startupGraceElapsed
}
