import ArgumentParser
import Foundation
import ProxyARPActors
import ProxyARPConfig
import ProxyARPControl

/// Where the CLI finds the control socket: `--socket PATH`, or the `control.socket` of
/// `--config FILE` (default `/etc/proxyarpd/proxyarpd.yaml`).
struct SocketOptions: ParsableArguments {
    /// The socket path.
    @Option(name: .long, help: ArgumentHelp("The control socket (default: control.socket from --config).", valueName: "path"))
    var socket: String?

    /// The configuration naming the socket.
    @Option(name: .long, help: ArgumentHelp("The YAML configuration file naming the socket.", valueName: "file"))
    var config: String = "/etc/proxyarpd/proxyarpd.yaml"

    /// The socket path to use.
    func socketPath() throws -> String {
        if let socket { return socket }
        do {
            return try ConfigurationLoader.load(path: config).control.socketPath
        } catch {
            throw ValidationError("cannot read the socket path from \(config) (use --socket):\n\(error.description)")
        }
    }

    /// A connected client; connection errors become a message and exit code 1.
    func connect() throws -> ControlClient {
        do {
            return try ControlClient(path: try socketPath())
        } catch let error as ControlSocketError {
            CLIError.exit(error.description)
        }
    }
}

/// Prints a message to standard error and exits 1.
enum CLIError {
    static func exit(_ message: String) -> Never {
        FileHandle.standardError.write(Data("proxyarpd: \(message)\n".utf8))
        Foundation.exit(1)
    }
}

/// `proxyarpd status [--socket PATH | --config FILE] [--json]`.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show every VIP and adapter of the running daemon (over the control socket)."
    )

    @OptionGroup var socket: SocketOptions

    /// Print the raw JSON reply.
    @Flag(help: "Print the daemon's JSON reply as is.")
    var json = false

    func run() throws {
        let client = try socket.connect()
        try client.send(.status)
        guard let line = client.readLine() else { CLIError.exit("the daemon closed the connection without a reply") }
        let reply = try ControlCodec.decode(ControlReply.self, from: line)
        guard reply.ok, let report = reply.status else { CLIError.exit(reply.error ?? "status failed") }
        print(json ? line : StatusTable.render(report))
    }
}

/// The `status` tables.
enum StatusTable {
    static func render(_ report: StatusReport) -> String {
        let now = report.monotonicNanoseconds
        var vipRows = [["VIP", "STATE", "AGENT", "AGENT MAC", "LOCAL IP", "SINCE", "ANNOUNCED", "CONFIRMED", "REPLIES"]]
        for vip in report.engine.vips {
            vipRows.append([
                vip.vip.description, vip.state, vip.agent?.rawValue ?? "-", vip.agentMAC?.description ?? "-",
                vip.localAddress?.description ?? "-", TimelineSVG.duration(max(0, now - vip.since.nanoseconds)),
                "\(vip.announcementsSent)", "\(vip.announcementsConfirmed)",
                report.repliesByVIP.map { "\($0[vip.vip.description] ?? 0)" } ?? "-",
            ])
        }
        let counters = Dictionary(report.io.map { ($0.adapter, $0) }, uniquingKeysWith: { a, _ in a })
        var adapterRows = [["ADAPTER", "STATE", "CARRIER", "VIPS", "REQUESTS SEEN", "REPLIES SENT"]]
        for adapter in report.engine.adapters {
            let io = counters[adapter.name]
            adapterRows.append([
                adapter.name.rawValue, adapter.state, adapter.carrier ? "yes" : "no", "\(adapter.vipCount)",
                io.map { "\($0.requestsSeen)" } ?? "-", io.map { "\($0.repliesSent)" } ?? "-",
            ])
        }
        var out = table(vipRows)
        out += "\n\n"
        out += table(adapterRows)
        if report.engine.conflicts > 0 { out += "\naddress conflicts seen: \(report.engine.conflicts)" }
        return out
    }

    /// Left-aligned columns separated by two spaces.
    static func table(_ rows: [[String]]) -> String {
        let widths = (0..<(rows.first?.count ?? 0)).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

/// `proxyarpd reload [--socket PATH | --config FILE]`: the same reload as SIGHUP, with its outcome.
struct ReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Make the running daemon reload its configuration file (like SIGHUP) and print the outcome."
    )

    @OptionGroup var socket: SocketOptions

    /// Print the raw JSON reply.
    @Flag(help: "Print the daemon's JSON reply as is.")
    var json = false

    func run() throws {
        let client = try socket.connect()
        try client.send(.reload)
        guard let line = client.readLine() else { CLIError.exit("the daemon closed the connection without a reply") }
        let reply = try ControlCodec.decode(ControlReply.self, from: line)
        if json { print(line) }
        guard reply.ok, let summary = reply.reload else {
            CLIError.exit(([reply.error ?? "reload failed"] + (reply.errors ?? [])).joined(separator: "\n"))
        }
        if !json { print("reloaded: \(summary.added) added, \(summary.removed) removed, \(summary.changed) changed") }
    }
}
