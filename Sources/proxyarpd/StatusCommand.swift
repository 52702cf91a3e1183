import ArgumentParser
import ProxyARPControl
import ProxyARPDaemon

/// `proxyarpd status [--socket PATH | --config FILE] [--json] [--all | --vip ADDR | --limit N --offset N]`.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the VIPs and adapters of the running daemon (over the control socket).",
        discussion: """
            Up to 1,000 VIPs every VIP is listed; above that a summary (counts per state and per \
            agent, the VIPs not active with their reasons) unless --all, --vip or --limit/--offset \
            asks for VIPs.
            """
    )

    @OptionGroup var socket: SocketOptions

    /// Print the raw JSON reply.
    @Flag(help: "Print the daemon's JSON reply as is.")
    var json = false

    /// Every VIP, however many.
    @Flag(help: "List every VIP, however many.")
    var all = false

    /// One VIP.
    @Option(help: "List this VIP only.")
    var vip: String?

    /// A page of VIPs.
    @Option(help: "List at most N VIPs (by address).")
    var limit: Int?

    /// Where the page starts.
    @Option(help: "Skip the first N VIPs (by address).")
    var offset: Int?

    func run() throws {
        let request = ControlRequest(command: .status, vip: vip, all: all ? true : nil, limit: limit, offset: offset)
        let (line, reply) = try socket.request(request)
        guard reply.ok, let report = reply.status else { CLIError.exit(reply.error ?? "status failed") }
        print(json ? line : StatusTable.render(report))
    }
}
