import ArgumentParser
import CMalloc
import Foundation
import Logging
import ProxyARPConfig
import ProxyARPCore

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
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "proxyarpd")
        proxyarpd_tune_malloc()
        let configuration: DaemonConfiguration
        do {
            configuration = try ConfigurationLoader.load(path: config)
        } catch {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(1)
        }
        let daemon = try Daemon(configuration: configuration, configurationPath: config, logger: logger)
        try await daemon.run()
    }
}
