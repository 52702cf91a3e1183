import ProxyARPCore
import Yams

/// The `io:` mapping: which path answers ARP requests, what each capture takes, and the
/// `tc` guard.
enum IOSection {
    static let keys = ["fast_path", "capture_filter", "arp_guard"]

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
        if let value = reader["capture_filter"], let text = ScalarReaders.string(value, "io.capture_filter", &diagnostics) {
            if let mode = CaptureFilterMode(rawValue: text) {
                io.captureFilter = mode
            } else {
                let allowed = CaptureFilterMode.allCases.map(\.rawValue).joined(separator: ", ")
                diagnostics.report(value, "io.capture_filter", "\"\(text)\" is not a capture filter; expected one of \(allowed)")
            }
        }
        if let value = reader["arp_guard"], let on = ScalarReaders.bool(value, "io.arp_guard", &diagnostics) {
            io.arpGuard = on
        }
        return io
    }
}
