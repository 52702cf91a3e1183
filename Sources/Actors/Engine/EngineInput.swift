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
    /// The sleeper for `sleeperDeadline` woke: fire what is due.
    case timersDue(sleeperDeadline: Instant)
    /// Send the probes of round `id` (VIPs before their first activation), then wait.
    case probe(round: UInt64, plan: [ProbePlanEntry])
    /// The probe wait of round `id` is over: admit the VIPs nobody answered for.
    case probeRoundElapsed(round: UInt64)
    /// The startup grace passed: activate the configured VIPs even if an adapter never
    /// reported.
    case startupGraceElapsed
}

/// The probes one adapter sends in a probe round.
struct ProbePlanEntry: Sendable {
    /// The adapter.
    var adapter: AdapterName
    /// Its MAC: the probes' sender hardware address.
    var mac: MACAddress
    /// The VIPs to probe for.
    var vips: [IPAddress]
}
