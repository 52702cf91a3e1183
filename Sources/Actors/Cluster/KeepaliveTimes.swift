import ProxyARPCore
import Synchronization

/// When the lease's last keepalive was due, sent, answered and applied to the fence gate
/// (monotonic nanoseconds, 0 = never): written by the keepalive loop, read for the log line
/// of a fence so it says which step was late.
final class KeepaliveTimes: Sendable {
    private let due = Atomic<Int64>(0)
    private let sent = Atomic<Int64>(0)
    private let answered = Atomic<Int64>(0)
    private let applied = Atomic<Int64>(0)

    /// Creates the record (nothing happened yet).
    init() {}

    /// A keepalive due at `due` was sent at `sent`.
    func recordSent(due: Instant, sent: Instant) {
        self.due.store(due.nanoseconds, ordering: .relaxed)
        self.sent.store(sent.nanoseconds, ordering: .relaxed)
    }

    /// The keepalive loop got the reply at `instant`.
    func recordAnswered(_ instant: Instant) { answered.store(instant.nanoseconds, ordering: .relaxed) }

    /// The reply's deadline reached the fence gate at `instant`.
    func recordApplied(_ instant: Instant) { applied.store(instant.nanoseconds, ordering: .relaxed) }

    /// Log metadata: how long before `now` each step happened, in milliseconds.
    func metadata(now: Instant) -> [String: String] {
        func ago(_ nanoseconds: Int64) -> String {
             nanoseconds == 0 ? "never" : "\((now.nanoseconds - nanoseconds) / 1_000_000) ms ago"
        }
        let lateness = (sent.load(ordering: .relaxed) - due.load(ordering: .relaxed)) / 1_000_000
        return [
            "keepalive_due": ago(due.load(ordering: .relaxed)), "keepalive_sent": ago(sent.load(ordering: .relaxed)),
            "sent_late_ms": "\(lateness)", "reply_received": ago(answered.load(ordering: .relaxed)),
            "gate_updated": ago(applied.load(ordering: .relaxed)),
        ]
    }
}
