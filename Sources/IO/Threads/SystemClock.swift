import ProxyARPCore

#if canImport(Glibc)
import Glibc
#endif

/// The real clock: `CLOCK_MONOTONIC` for machines and timers, `CLOCK_REALTIME` for the
/// trace's wall time.
public struct SystemClock: EngineClock {
    /// Creates the clock.
    public init() {}

    /// Monotonic now.
    public func now() -> Instant { Instant(nanoseconds: Self.read(CLOCK_MONOTONIC)) }

    /// Wall-clock now, nanoseconds since the Unix epoch.
    public func wallNanoseconds() -> Int64 { Self.read(CLOCK_REALTIME) }

    /// Sleeps until `deadline` on the monotonic clock.
    public func sleep(until deadline: Instant) async throws {
        let remaining = deadline.duration(since: now())
        if remaining > .zero { try await Task.sleep(for: remaining) }
        try Task.checkCancellation()
    }

    private static func read(_ clock: clockid_t) -> Int64 {
        var spec = timespec()
        clock_gettime(clock, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}
