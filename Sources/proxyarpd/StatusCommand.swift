import ArgumentParser
import ProxyARPControl
import ProxyARPDaemon

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
        let (line, reply) = try socket.request(.status)
        guard reply.ok, let report = reply.status else { CLIError.exit(reply.error ?? "status failed") }
        print(json ? line : StatusTable.render(report))
    }
}
