import ProxyARPCore

/// The real ``EngineClock``: ``MonotonicClock`` for machines and timers, its wall clock for
/// the trace's wall time.
public struct SystemClock: EngineClock {
    /// Creates the clock.
    public init() {}

    /// Monotonic now.
    public func now() -> Instant { MonotonicClock.now() }

    /// Wall-clock now, nanoseconds since the Unix epoch.
    public func wallNanoseconds() -> Int64 { MonotonicClock.wallNanoseconds() }

    /// Sleeps until `deadline` on the monotonic clock.
    public func sleep(until deadline: Instant) async throws {
        let remaining = deadline.duration(since: now())
        if remaining > .zero { try await Task.sleep(for: remaining) }
        try Task.checkCancellation()
    }
}
