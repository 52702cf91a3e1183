import ProxyARPCore

/// The kernel's rules for an interface name (`dev_valid_name` in net/core/dev.c):
/// 1 to 15 bytes (IFNAMSIZ minus the terminating NUL), not `.` or `..`,
/// and no `/`, `:` or whitespace.
enum AdapterNameRules {
    /// Why `name` cannot be a kernel interface name, or nil when it can.
    static func problem(with name: String) -> String? {
        let bytes = name.utf8.count
        if bytes == 0 { return "an interface name must not be empty" }
        if bytes > 15 { return "\"\(name)\" is \(bytes) bytes long; kernel interface names have at most 15" }
        if name == "." || name == ".." { return "\"\(name)\" is not a valid interface name" }
        if let bad = name.unicodeScalars.first(where: { $0 == "/" || $0 == ":" || $0.properties.isWhitespace || $0 == "\0" }) {
            let shown = bad.properties.isWhitespace ? "whitespace" : "\"\(bad)\""
            return "\"\(name)\" contains \(shown), which kernel interface names cannot contain"
        }
        return nil
    }
}
