import ProxyARPCore
import Yams

/// The `metrics:` mapping: the loopback address of the Prometheus endpoint.
enum MetricsSection {
    static let keys = ["listen"]

    /// Reads the section; an absent `listen` keeps the default of ``MetricsConfiguration``.
    static func read(_ node: Node?, _ diagnostics: inout Diagnostics) -> MetricsConfiguration {
        var metrics = MetricsConfiguration()
        guard let node,
            let reader = MappingReader(node, path: "metrics", allowed: keys, diagnostics: &diagnostics),
            let value = reader["listen"],
            let text = ScalarReaders.string(value, "metrics.listen", &diagnostics)
        else { return metrics }
        switch MetricsListenAddress.parse(text) {
        case .success(let listen):
            metrics.host = listen.host
            metrics.port = listen.port
        case .failure(let problem):
            diagnostics.report(value, "metrics.listen", problem.reason)
        }
        return metrics
    }
}
