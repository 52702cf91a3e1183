/// One sd_notify datagram: `KEY=VALUE` assignments, one per line, in order
/// (sd_notify(3)). The daemon sends only the messages built here.
struct SystemdMessage: Sendable, Equatable {
    /// The assignments, e.g. `["READY=1", "STATUS=3 of 3 VIPs active"]`.
    var assignments: [String]

    /// The datagram's text: the assignments joined by newlines.
    var text: String { assignments.joined(separator: "\n") }

    /// Startup is done: every configured VIP is settled.
    static func ready(active: Int, of total: Int) -> SystemdMessage {
        SystemdMessage(assignments: ["READY=1", status("\(active) of \(total) VIPs active")])
    }

    /// A reload begins. `MONOTONIC_USEC` is the daemon's `CLOCK_MONOTONIC` in
    /// microseconds, which systemd uses to tell this reload from an earlier one.
    static func reloading(monotonicMicroseconds: Int64) -> SystemdMessage {
        SystemdMessage(assignments: ["RELOADING=1", "MONOTONIC_USEC=\(monotonicMicroseconds)"])
    }

    /// A reload is done (applied or refused): ready again.
    static let reloaded = SystemdMessage(assignments: ["READY=1"])

    /// The engine answered within the watchdog interval.
    static let watchdog = SystemdMessage(assignments: ["WATCHDOG=1"])

    /// The graceful shutdown began: every VIP is being withdrawn.
    static let stopping = SystemdMessage(assignments: ["STOPPING=1", status("withdrawing VIPs")])

    /// `STATUS=text`, on one line (a newline would start another assignment).
    static func status(_ text: String) -> String {
        "STATUS=" + text.map { $0.isNewline ? " " : String($0) }.joined()
    }
}
