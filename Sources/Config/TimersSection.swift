import ProxyARPCore
import Yams

/// The `timers:` mapping. Each value is checked alone, then against the others
/// (only when both sides were read without problems, so one typo gives one error).
enum TimersSection {
    static let keys = [
        "announce_count", "announce_interval", "confirm_timeout", "confirm_retries",
        "refresh_interval", "hold_down", "preempt_delay",
    ]

    /// Linux ignores a second neighbour update within `locktime` (1 s by default).
    static let linuxLocktime = Duration.seconds(1)

    /// Reads the section; absent keys keep the defaults of ``TimerConfiguration``.
    static func read(_ node: Node?, _ diagnostics: inout Diagnostics) -> TimerConfiguration {
        var timers = TimerConfiguration()
        guard let node,
            let reader = MappingReader(node, path: "timers", allowed: keys, diagnostics: &diagnostics)
        else { return timers }

        func path(_ key: String) -> String { "timers.\(key)" }
        // Values that were given and read cleanly; cross-checks use only these and defaults.
        var countOK = true
        var intervalOK = true

        if let value = reader["announce_count"] {
            if let count = ScalarReaders.int(value, path("announce_count"), in: 1...20, &diagnostics) {
                timers.announceCount = count
            } else {
                countOK = false
            }
        }
        if let value = reader["announce_interval"] {
            if let interval = ScalarReaders.duration(value, path("announce_interval"), &diagnostics) {
                if interval <= linuxLocktime {
                    diagnostics.report(
                        value, path("announce_interval"),
                        "\(DurationText.format(interval)) must be more than 1s: Linux ignores a second update within its 1s locktime")
                    intervalOK = false
                } else if interval > .seconds(60) {
                    diagnostics.report(value, path("announce_interval"), "\(DurationText.format(interval)) must be at most 60s")
                    intervalOK = false
                } else {
                    timers.announceInterval = interval
                }
            } else {
                intervalOK = false
            }
        }
        if let value = reader["confirm_timeout"], let timeout = ScalarReaders.duration(value, path("confirm_timeout"), &diagnostics) {
            if timeout <= .zero {
                diagnostics.report(value, path("confirm_timeout"), "must be more than 0")
            } else if intervalOK && timeout >= timers.announceInterval {
                diagnostics.report(
                    value, path("confirm_timeout"),
                    "\(DurationText.format(timeout)) must be less than announce_interval (\(DurationText.format(timers.announceInterval)))")
            } else {
                timers.confirmTimeout = timeout
            }
        }
        if let value = reader["confirm_retries"],
            let retries = ScalarReaders.int(value, path("confirm_retries"), in: 0...10, &diagnostics)
        {
            timers.confirmRetries = retries
        }
        if let value = reader["refresh_interval"],
            let refresh = ScalarReaders.duration(value, path("refresh_interval"), allowOff: true, &diagnostics)
        {
            let minimum = timers.announceInterval * timers.announceCount
            if refresh == .zero {
                timers.refreshInterval = nil
            } else if countOK && intervalOK && refresh < minimum {
                diagnostics.report(
                    value, path("refresh_interval"),
                    "\(DurationText.format(refresh)) must be off or at least announce_interval × announce_count (\(DurationText.format(minimum)))")
            } else {
                timers.refreshInterval = refresh
            }
        }
        if let value = reader["hold_down"], let holdDown = ScalarReaders.duration(value, path("hold_down"), &diagnostics) {
            if holdDown > .seconds(600) {
                diagnostics.report(value, path("hold_down"), "\(DurationText.format(holdDown)) must be at most 10m")
            } else {
                timers.holdDown = holdDown
            }
        }
        if let value = reader["preempt_delay"], let delay = ScalarReaders.duration(value, path("preempt_delay"), &diagnostics) {
            timers.preemptDelay = delay
        }
        return timers
    }
}
