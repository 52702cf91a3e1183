import ProxyARPCore
import Yams

/// The `io:` mapping: which path answers ARP requests.
enum IOSection {
    static let keys = ["fast_path"]

    /// Reads the section; absent keys keep the defaults of ``IOConfiguration``.
    static func read(_ node: Node?, _ diagnostics: inout Diagnostics) -> IOConfiguration {
        var io = IOConfiguration()
        guard let node, let reader = MappingReader(node, path: "io", allowed: keys, diagnostics: &diagnostics) else {
            return io
        }
        if let value = reader["fast_path"], let text = ScalarReaders.string(value, "io.fast_path", &diagnostics) {
            if let mode = FastPathMode(rawValue: text) {
                io.fastPath = mode
            } else {
                let allowed = FastPathMode.allCases.map(\.rawValue).joined(separator: ", ")
                diagnostics.report(value, "io.fast_path", "\"\(text)\" is not a fast path; expected one of \(allowed)")
            }
        }
        return io
    }
}
