import Foundation
import ProxyARPCore
import ProxyARPStateMachines

/// Renders trace records as aligned text: time since the first record, subject, event,
/// transition and action; a cluster unit's record that is an ownership milestone (claimed,
/// taken over, lost, released, fenced, unfenced) ends with it in brackets.
public enum TraceTable {
    /// One line per record, under a header; `(no records)` when there are none.
    public static func render(_ records: [MachineTraceRecord]) -> String {
        guard let first = records.first else { return "(no records)" }
        let milestones = Dictionary(
            OwnershipMilestone.derive(records).map { ($0.sequence, $0) }, uniquingKeysWith: { first, _ in first })
        var lines = ["     seq     +ms  subject          event                      from -> to  |  action"]
        for record in records {
            let ms = Double(record.monotonic.nanoseconds - first.monotonic.nanoseconds) / 1_000_000
            let time = String(format: "%8.1f", ms)
            let subject = record.subject.label.padding(toLength: 16, withPad: " ", startingAt: 0)
            let event = record.event.name.padding(toLength: 26, withPad: " ", startingAt: 0)
            lines.append("\(String(format: "%8d", record.sequence)) \(time)  \(subject) \(event) \(record.from) -> \(record.to)  |  \(record.action)"
                + (milestones[record.sequence].map { "  [\($0)]" } ?? ""))
        }
        return lines.joined(separator: "\n")
    }
}
