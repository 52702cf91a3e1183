import Glibc
import ProxyARPCore

/// The daemon's one clock reader, with `clock_gettime`: no allocation, no Foundation,
/// usable on the capture threads. ``SystemClock`` (the engine's clock) reads through it.
public enum MonotonicClock {
    /// Now, in nanoseconds since an arbitrary origin (boot): `CLOCK_MONOTONIC`.
    public static func now() -> Instant {
        Instant(nanoseconds: read(CLOCK_MONOTONIC))
    }

    /// Wall-clock now, nanoseconds since the Unix epoch: `CLOCK_REALTIME` (trace times only).
    public static func wallNanoseconds() -> Int64 {
        read(CLOCK_REALTIME)
    }

    private static func read(_ clock: clockid_t) -> Int64 {
        var time = timespec()
        clock_gettime(clock, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}
