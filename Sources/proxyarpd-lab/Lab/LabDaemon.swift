import Foundation
import ProxyARPTestSupport

/// Starts the daemon under test in a ``HostLab``'s host namespace, with its config, log,
/// control socket and state under one folder: the launcher of the bench and the soak.
enum LabDaemon {
    /// The configuration for `vips` in `lab`, with everything under `folder`.
    static func configuration(
        _ lab: HostLab, folder: String, vips: [String], timers: [String: String] = [:], blockPrefixLength: Int = 32,
        extra: String = ""
    ) -> String {
        let selection = "selection:\n  block_prefix_length: \(blockPrefixLength)\n"
        return lab.configurationYAML(vips: vips, directory: folder, timers: timers, extra: selection + extra)
    }

    /// Writes `configuration` to `FOLDER/proxyarpd.yaml` and starts `binary run --config` it
    /// (log in `FOLDER/daemon.log`).
    static func start(binary: String, in lab: HostLab, folder: String, configuration: String) throws -> LabProcess {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let config = configPath(folder)
        try configuration.write(toFile: config, atomically: true, encoding: .utf8)
        return try LabProcess(binary: binary, namespace: lab.host, arguments: ["run", "--config", config], logPath: "\(folder)/daemon.log")
    }

    /// Where ``start(binary:in:folder:configuration:)`` puts the configuration.
    static func configPath(_ folder: String) -> String { "\(folder)/proxyarpd.yaml" }

    /// The control socket the lab's configuration names.
    static func socketPath(_ folder: String) -> String { "\(folder)/control.sock" }
}
