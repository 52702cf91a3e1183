import ArgumentParser
import Foundation
import ProxyARPActors
import ProxyARPConfig
import ProxyARPControl
import ProxyARPDaemon
import ProxyARPStateMachines

/// `proxyarpd trace`: stream the running daemon's state trace from the control socket
/// (JSON Lines), draw it as an SVG timeline, or work with saved dumps (`replay`, `show`).
struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Stream the daemon's state trace (JSON Lines), draw a timeline, or work with dumps.",
        discussion: """
            Without a subcommand: prints the trace records held by the running daemon as JSON \
            Lines (the dump format), optionally filtered, and with --follow keeps printing new \
            ones until interrupted. With --timeline FILE.svg draws the records (from the socket, \
            or from a saved dump with --from-file) as one lane per VIP and per adapter, and in \
            cluster mode one lane per unit showing its owner host.
            """,
        subcommands: [ReplayCommand.self, ShowCommand.self]
    )

    @OptionGroup var socket: SocketOptions

    /// Only this VIP.
    @Option(help: ArgumentHelp("Only records of this VIP.", valueName: "addr"))
    var vip: String?

    /// Only this adapter.
    @Option(help: ArgumentHelp("Only records of this adapter.", valueName: "name"))
    var adapter: String?

    /// Only recent records.
    @Option(help: ArgumentHelp("Only records of the last DURATION (e.g. 90s, 5m).", valueName: "duration"))
    var since: String?

    /// Keep streaming.
    @Flag(help: "Keep printing new records until interrupted.")
    var follow = false

    /// Draw an SVG instead of printing records.
    @Option(help: ArgumentHelp("Write an SVG timeline to this file instead of printing records.", valueName: "file.svg"))
    var timeline: String?

    /// Read records from a dump instead of the socket (with --timeline).
    @Option(help: ArgumentHelp("With --timeline: read a saved dump instead of asking the daemon.", valueName: "dump"))
    var fromFile: String?

    func validate() throws {
        if let since, DurationText.parse(since) == nil { throw ValidationError("--since: not a duration: \(since)") }
        if fromFile != nil && timeline == nil { throw ValidationError("--from-file needs --timeline") }
        if follow && timeline != nil { throw ValidationError("--follow and --timeline exclude each other") }
    }

    func run() throws {
        var request = ControlRequest(command: .trace, vip: vip, adapter: adapter, follow: follow ? true : nil)
        if let since, let duration = DurationText.parse(since) {
            let (seconds, attoseconds) = duration.components
            let nanoseconds = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
            request.sinceNanoseconds = Int64(Date().timeIntervalSince1970 * 1e9) - nanoseconds
        }
        guard let timeline else {
            let client = try socket.connect()
            do {
                let dropped: (UInt64) -> Void = { count in
                    FileHandle.standardError.write(Data("proxyarpd trace: \(count) records dropped so far (reading too slowly)\n".utf8))
                }
                try client.trace(request, dropped: dropped) { line in
                    print(line)
                    if follow { fflush(nil) }
                }
            } catch let error as ControlSocketError {
                CLIError.exit(error.description)
            }
            return
        }
        let records: [MachineTraceRecord]
        if let fromFile {
            records = try TraceFile.read(fromFile).filter(request.matches)
        } else {
            let client = try socket.connect()
            var lines: [String] = []
            do {
                try client.trace(request) { lines.append($0) }
            } catch let error as ControlSocketError {
                CLIError.exit(error.description)
            }
            records = try lines.map { try ControlCodec.decode(MachineTraceRecord.self, from: $0) }
        }
        let svg = TimelineSVG().render(records)
        try svg.write(toFile: timeline, atomically: true, encoding: .utf8)
        let vips = Set(records.compactMap { if case .vip(let vip) = $0.subject { vip } else { nil } })
        let units = Set(records.compactMap { if case .unit(let unit) = $0.subject { unit } else { nil } })
        print("\(timeline): \(records.count) records, \(vips.count) VIP lanes" + (units.isEmpty ? "" : ", \(units.count) unit lanes (owner host)"))
    }

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
                if let vip, record.subject.label != vip {
                    // Cluster mode: also the records of the unit (block) holding the VIP.
                    guard case .unit(let unit) = record.subject, ControlRequest.unit(unit, holds: vip) else { return false }
                }
                if let adapter, record.subject.label != adapter { return false }
                return true
            }
            print(TraceTable.render(records))
        }
    }
}
