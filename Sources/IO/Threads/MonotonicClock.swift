import Glibc
import ProxyARPCore

/// The daemon's monotonic clock, read with `clock_gettime(CLOCK_MONOTONIC)`: no
/// allocation, no Foundation, usable on the capture threads.
public enum MonotonicClock {
    /// Now, in nanoseconds since an arbitrary origin (boot).
    public static func now() -> Instant {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Instant(nanoseconds: Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec))
    }
}
