import ArgumentParser
import Foundation
import ProxyARPConfig
import ProxyARPControl
import ProxyARPDaemon

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
