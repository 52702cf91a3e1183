import Logging
import Synchronization

/// Activations and failovers logged as summaries: one info line per second at most
/// (`VIPs activated`, with the count since the last line and the totals), however many
/// VIPs activate; each VIP's own `VIP active` / `VIP failed over` line is at debug.
///
/// At 130,560 VIPs one info line per VIP made 23.6 MB of log at start (issue 11,
/// failure 7). The first activation after a quiet second is logged at once; the rest of
/// a second's activations by the next one, or by ``flush(logger:)`` (the engine calls it
/// every second). `total` counts activations (not failovers) since start: the lab's
/// bench reads it to time activation at scale.
public final class ActivationLog: Sendable {
    private struct Window {
        var activated = 0
        var failedOver = 0
        var totalActivated = 0
        var totalFailedOver = 0
        var lastLine: ContinuousClock.Instant?
    }

    /// The shortest time between two summary lines.
    public let interval: Duration
    private let window = Mutex(Window())

    /// Creates an empty log.
    public init(interval: Duration = .seconds(1)) {
        self.interval = interval
    }

    /// Counts one activation (or failover) and logs the summary when it is due.
    public func record(failover: Bool, logger: Logger) {
        let now = ContinuousClock.now
        let line = window.withLock { window -> Window? in
            if failover { window.failedOver += 1; window.totalFailedOver += 1 } else { window.activated += 1; window.totalActivated += 1 }
            guard window.lastLine.map({ now - $0 >= interval }) ?? true else { return nil }
            return Self.take(&window, now: now)
        }
        if let line { Self.log(line, logger: logger) }
    }

    /// Logs what the last line did not cover yet, if anything.
    public func flush(logger: Logger) {
        let now = ContinuousClock.now
        let line = window.withLock { window -> Window? in
            guard window.activated + window.failedOver > 0 else { return nil }
            return Self.take(&window, now: now)
        }
        if let line { Self.log(line, logger: logger) }
    }

    /// Activations since start.
    public var totalActivated: Int { window.withLock { $0.totalActivated } }

    private static func take(_ window: inout Window, now: ContinuousClock.Instant) -> Window {
        let line = window
        window.activated = 0
        window.failedOver = 0
        window.lastLine = now
        return line
    }

    private static func log(_ line: Window, logger: Logger) {
        logger.info(
            "VIPs activated",
            metadata: [
                "count": "\(line.activated)", "failovers": "\(line.failedOver)", "total": "\(line.totalActivated)",
                "total_failovers": "\(line.totalFailedOver)",
            ]
        )
    }
}
