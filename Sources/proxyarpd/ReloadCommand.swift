import ArgumentParser
import ProxyARPControl

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
        let (line, reply) = try socket.request(.reload)
        if json { print(line) }
        guard reply.ok, let summary = reply.reload else {
            CLIError.exit(([reply.error ?? "reload failed"] + (reply.errors ?? [])).joined(separator: "\n"))
        }
        if !json { print("reloaded: \(summary.added) added, \(summary.removed) removed, \(summary.changed) changed") }
    }
}
