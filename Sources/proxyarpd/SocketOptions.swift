import ArgumentParser
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

    /// Sends `request` and returns the daemon's one reply line and its decoded form; a
    /// connection closed without a reply becomes a message and exit code 1.
    func request(_ request: ControlRequest) throws -> (line: String, reply: ControlReply) {
        let client = try connect()
        try client.send(request)
        guard let line = client.readLine() else { CLIError.exit("the daemon closed the connection without a reply") }
        return (line, try ControlCodec.decode(ControlReply.self, from: line))
    }
}
