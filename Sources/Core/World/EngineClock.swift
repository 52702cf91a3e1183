/// The daemon's clock: monotonic time for machines and timers, wall time for the trace.
public protocol EngineClock: Sendable {
    /// Monotonic now.
    func now() -> Instant
    /// Wall-clock now, nanoseconds since the Unix epoch.
    func wallNanoseconds() -> Int64
    /// Suspends until `deadline`; throws `CancellationError` when the task is cancelled.
    func sleep(until deadline: Instant) async throws
}
