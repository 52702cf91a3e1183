import Glibc

/// The XDP fast path could not be loaded, attached, detached or updated.
public struct XDPError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The adapter concerned, or nil for the program as a whole.
    public let adapter: String?
    /// What failed, e.g. `bpf_object__load` or `attach`.
    public let operation: String
    /// The errno (positive), 0 when there is none.
    public let code: Int32
    /// Extra detail.
    public let detail: String

    /// Creates an error.
    public init(adapter: String? = nil, operation: String, code: Int32, detail: String = "") {
        self.adapter = adapter
        self.operation = operation
        self.code = code
        self.detail = detail
    }

    /// An error from a libbpf call that returned `-errno` (or set errno).
    static func libbpf(_ operation: String, _ status: Int32, adapter: String? = nil, detail: String = "") -> XDPError {
        XDPError(adapter: adapter, operation: operation, code: status < 0 ? -status : errno, detail: detail)
    }

    /// `xdp on eth0: attach failed: Operation not permitted (...)`.
    public var description: String {
        let reason = code == 0 ? detail : String(cString: strerror(code)) + (detail.isEmpty ? "" : " (\(detail))")
        return "xdp\(adapter.map { " on \($0)" } ?? ""): \(operation) failed: \(reason)"
    }
}
