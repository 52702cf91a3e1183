import ArgumentParser
import Foundation
import Logging
import ProxyARPConfig
import ProxyARPDaemon

/// `proxyarpd run --config FILE`: the daemon.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon: answer ARP for the configured VIPs until SIGTERM.",
        discussion: """
            Signals: SIGTERM/SIGINT withdraw every VIP and exit; SIGHUP reloads the \
            configuration (a bad file is logged and the running one kept); SIGUSR1 writes \
            the state trace to the state directory.
            """
    )

    /// The configuration file.
    @Option(name: .long, help: ArgumentHelp("The YAML configuration file.", valueName: "file"))
    var config: String = "/etc/proxyarpd/proxyarpd.yaml"

    /// Log level.
    @Option(name: .long, help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown log level \(logLevel)")
        }
        do {
            try await Daemon.launch(configurationPath: config, logLevel: level)
        } catch let error as ConfigurationErrors {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(1)
        }
    }
}
