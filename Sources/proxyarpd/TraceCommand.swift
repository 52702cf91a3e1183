import ArgumentParser
import Foundation
import ProxyARPActors
import ProxyARPStateMachines

/// `proxyarpd trace ...`: work with state-trace dumps.
struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Work with state-trace dumps (JSON Lines).",
        subcommands: [ReplayCommand.self, ShowCommand.self]
    )

    /// `proxyarpd trace replay FILE`.
    struct ReplayCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "replay",
            abstract: "Re-run a dump through fresh state machines and report any divergence."
        )

        /// The dump.
        @Argument(help: "A trace dump (JSON Lines).")
        var file: String

        func run() throws {
            let records = try TraceFile.read(file)
            let report = TraceReplay.replay(records)
            print("\(file): \(records.count) records, \(report.replayed) replayed, \(report.skipped) skipped (creation not in the dump), \(report.divergences.count) divergences")
            for divergence in report.divergences.prefix(50) { print("  \(divergence)") }
            if !report.divergences.isEmpty { throw ExitCode(1) }
        }
    }

    /// `proxyarpd trace show FILE [--vip ADDR] [--adapter NAME]`.
    struct ShowCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Print a dump as a readable table, optionally for one VIP or adapter."
        )

        /// The dump.
        @Argument(help: "A trace dump (JSON Lines).")
        var file: String

        /// Only this VIP.
        @Option(help: "Only records of this VIP.")
        var vip: String?

        /// Only this adapter.
        @Option(help: "Only records of this adapter.")
        var adapter: String?

        func run() throws {
            let records = try TraceFile.read(file).filter { record in
                if let vip, record.subject.label != vip { return false }
                if let adapter, record.subject.label != adapter { return false }
                return true
            }
            print(TraceTable.render(records))
        }
    }
}

/// Renders trace records as aligned text: time since the first record, subject, event,
/// transition and action.
enum TraceTable {
    static func render(_ records: [MachineTraceRecord]) -> String {
        guard let first = records.first else { return "(no records)" }
        var lines = ["     seq     +ms  subject          event                      from -> to  |  action"]
        for record in records {
            let ms = Double(record.monotonic.nanoseconds - first.monotonic.nanoseconds) / 1_000_000
            let time = String(format: "%8.1f", ms)
            let subject = record.subject.label.padding(toLength: 16, withPad: " ", startingAt: 0)
            let event = record.event.name.padding(toLength: 26, withPad: " ", startingAt: 0)
            lines.append("\(String(format: "%8d", record.sequence)) \(time)  \(subject) \(event) \(record.from) -> \(record.to)  |  \(record.action)")
        }
        return lines.joined(separator: "\n")
    }
}
