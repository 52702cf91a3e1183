import ProxyARPCore
import Yams

/// The `conflicts:` mapping: what to do when another host claims a VIP (RFC 5227 §2.4).
enum ConflictsSection {
    static let keys = ["policy", "defend_interval", "retry_after", "probe_wait"]

    /// Reads the section; absent keys keep the defaults of ``ConflictConfiguration``.
    static func read(_ node: Node?, _ diagnostics: inout Diagnostics) -> ConflictConfiguration {
        var conflicts = ConflictConfiguration()
        guard let node,
            let reader = MappingReader(node, path: "conflicts", allowed: keys, diagnostics: &diagnostics)
        else { return conflicts }
        if let value = reader["policy"], let text = ScalarReaders.string(value, "conflicts.policy", &diagnostics) {
            if let policy = ConflictPolicy(rawValue: text) {
                conflicts.policy = policy
            } else {
                let names = ConflictPolicy.allCases.map(\.rawValue).joined(separator: ", ")
                diagnostics.report(value, "conflicts.policy", "\"\(text)\" is not a policy: use one of \(names)")
            }
        }
        if let value = reader["defend_interval"],
            let interval = ScalarReaders.duration(value, "conflicts.defend_interval", &diagnostics)
        {
            if interval < .seconds(1) || interval > .seconds(300) {
                diagnostics.report(value, "conflicts.defend_interval", "\(DurationText.format(interval)) must be between 1s and 5m")
            } else {
                conflicts.defendInterval = interval
            }
        }
        if let value = reader["retry_after"], let retry = ScalarReaders.duration(value, "conflicts.retry_after", &diagnostics) {
            if retry < .seconds(1) || retry > .seconds(3600) {
                diagnostics.report(value, "conflicts.retry_after", "\(DurationText.format(retry)) must be between 1s and 1h")
            } else {
                conflicts.retryAfter = retry
            }
        }
        if let value = reader["probe_wait"], let wait = ScalarReaders.duration(value, "conflicts.probe_wait", &diagnostics) {
            if wait < .zero || wait > .seconds(5) {
                diagnostics.report(value, "conflicts.probe_wait", "\(DurationText.format(wait)) must be between 0 (no probe) and 5s")
            } else {
                conflicts.probeWait = wait
            }
        }
        return conflicts
    }
}
