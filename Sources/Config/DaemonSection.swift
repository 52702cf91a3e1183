import ProxyARPCore
import Yams

/// The `daemon:` mapping: privilege drop, state directory, shutdown behaviour, trace size.
enum DaemonSection {
    static let keys = ["user", "state_directory", "remove_vips_on_exit", "trace_capacity"]

    /// Reads the section; absent keys keep the defaults of ``DaemonSettings``.
    static func read(_ node: Node?, _ diagnostics: inout Diagnostics) -> DaemonSettings {
        var daemon = DaemonSettings()
        guard let node,
            let reader = MappingReader(node, path: "daemon", allowed: keys, diagnostics: &diagnostics)
        else { return daemon }
        if let value = reader["user"], !value.isNull,
            let user = ScalarReaders.nonEmptyString(value, "daemon.user", &diagnostics)
        {
            daemon.user = user
        }
        if let value = reader["state_directory"],
            let path = ScalarReaders.absolutePath(value, "daemon.state_directory", &diagnostics)
        {
            daemon.stateDirectory = path
        }
        if let value = reader["remove_vips_on_exit"],
            let remove = ScalarReaders.bool(value, "daemon.remove_vips_on_exit", &diagnostics)
        {
            daemon.removeVIPsOnExit = remove
        }
        if let value = reader["trace_capacity"],
            let capacity = ScalarReaders.int(value, "daemon.trace_capacity", in: 1_024...10_000_000, &diagnostics)
        {
            daemon.traceCapacity = capacity
        }
        return daemon
    }
}
