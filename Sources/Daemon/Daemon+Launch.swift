import CMalloc
import Logging
import ProxyARPConfig
import ProxyARPCore

extension Daemon {
    /// What `proxyarpd run` does: logs to standard error at `logLevel`, tunes glibc's
    /// malloc, loads the configuration file and runs the daemon until SIGTERM/SIGINT.
    /// Throws ``ProxyARPConfig/ConfigurationErrors`` (every problem with its line) when
    /// the file is not valid; nothing has been touched then.
    public static func launch(configurationPath: String, logLevel: Logger.Level) async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = logLevel
            return handler
        }
        let logger = Logger(label: "proxyarpd")
        proxyarpd_tune_malloc()
        let configuration = try ConfigurationLoader.load(path: configurationPath)
        let daemon = try Daemon(configuration: configuration, configurationPath: configurationPath, logger: logger)
        try await daemon.run()
    }
}
