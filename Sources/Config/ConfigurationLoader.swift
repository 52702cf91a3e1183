import Foundation
import ProxyARPCore
import Yams

/// Reads a proxyarpd YAML file into a validated ``DaemonConfiguration``.
///
/// The file is composed into Yams' `Node` tree and walked by hand rather than decoded with
/// `Codable`: a decoder stops at the first problem and forgets where values were written,
/// while here every problem is collected and carries the line (and column) of its node.
/// Ranges and CIDR blocks stay intervals until every check has passed, then expand into one
/// ``VIPConfiguration`` per address.
///
/// Limitation: YAML syntax errors and duplicate keys are found by Yams while it composes the
/// document; the document cannot be walked after them, so they are reported alone.
public enum ConfigurationLoader {
    /// The top-level keys of the file.
    static let keys = ["adapters", "vips", "timers", "control", "metrics", "daemon", "selection", "conflicts", "io", "cluster"]

    /// Parses and validates `yaml`; `fileName` is only used in error messages.
    ///
    /// - Throws: ``ConfigurationErrors`` listing every problem found, sorted by line.
    public static func load(yaml: String, fileName: String) throws(ConfigurationErrors) -> DaemonConfiguration {
        var diagnostics = Diagnostics(fileName: fileName)
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            diagnostics.reportYAML(error)
            throw ConfigurationErrors(diagnostics.errors)
        }
        guard let root, !root.isNull else {
            diagnostics.report(line: 1, column: nil, "", "the file is empty; \"adapters\" and \"vips\" are required")
            throw ConfigurationErrors(diagnostics.errors)
        }
        guard let reader = MappingReader(root, path: "", allowed: keys, diagnostics: &diagnostics) else {
            throw ConfigurationErrors(diagnostics.errors)
        }

        var adapters: [AdaptersSection.Entry] = []
        if let node = reader.required("adapters", diagnostics: &diagnostics) {
            adapters = AdaptersSection.read(node, &diagnostics)
        }
        var entries: [IPv4VIPEntry] = []
        var ipv6Entries: [IPv6VIPEntry] = []
        if let node = reader.required("vips", diagnostics: &diagnostics) {
            entries = VIPsSection.read(node, adapters: adapters.map(\.configuration.name), ipv6: &ipv6Entries, &diagnostics)
            VIPSetRules.check(entries, vipsNode: reader.keyNode("vips") ?? node, adapters: adapters, &diagnostics)
            IPv6VIPEntry.checkOverlaps(ipv6Entries, name: \.description, &diagnostics)
        }
        let timers = TimersSection.read(reader["timers"], &diagnostics)
        let control = ControlSection.read(reader["control"], &diagnostics)
        let metrics = MetricsSection.read(reader["metrics"], &diagnostics)
        let daemon = DaemonSection.read(reader["daemon"], &diagnostics)
        let selection = SelectionSection.read(reader["selection"], &diagnostics)
        let conflicts = ConflictsSection.read(reader["conflicts"], &diagnostics)
        let io = IOSection.read(reader["io"], &diagnostics)
        let cluster = ClusterSection.read(reader["cluster"], &diagnostics)
        // Either family: the first entry in the file that names hosts without a cluster.
        let namingHosts =
            entries.filter { !$0.preferredHosts.isEmpty }.map { ($0.index, $0.node) }
            + ipv6Entries.filter { !$0.preferredHosts.isEmpty }.map { ($0.index, $0.node) }
        if cluster == nil, reader["cluster"] == nil, let (index, node) = namingHosts.min(by: { $0.0 < $1.0 }) {
            diagnostics.report(node, "vips[\(index)].preferred_hosts", "preferred_hosts needs a \"cluster:\" section")
        }

        guard diagnostics.isEmpty else { throw ConfigurationErrors(diagnostics.errors) }
        return DaemonConfiguration(
            adapters: adapters.map(\.configuration),
            vips: VIPSetRules.expand(entries) + IPv6VIPEntry.expand(ipv6Entries),
            timers: timers,
            control: control,
            metrics: metrics,
            daemon: daemon,
            selection: selection,
            conflicts: conflicts,
            io: io,
            cluster: cluster)
    }

    /// Reads the file at `path` and loads it; errors name the file as `path` was given.
    ///
    /// - Throws: ``ConfigurationErrors``; an unreadable file gives one error with line 0.
    public static func load(path: String) throws(ConfigurationErrors) -> DaemonConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationErrors([
                ConfigurationError(fileName: path, line: 0, path: "", reason: "cannot read the file: \(error.localizedDescription)")
            ])
        }
        return try load(yaml: text, fileName: path)
    }
}
