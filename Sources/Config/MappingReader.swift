import Yams

/// Reads one YAML mapping whose keys are known in advance: reports unknown keys
/// (naming the allowed ones) and missing required keys, and hands out values by key.
struct MappingReader {
    /// The mapping node itself, the position used for "missing key" errors.
    let node: Node
    /// The mapping's path in the document.
    let path: String
    private var values: [String: Node] = [:]
    private var keyNodes: [String: Node] = [:]

    /// Checks that `node` is a mapping whose keys all come from `allowed`, or reports why not
    /// and returns nil. A null node (`timers:` with nothing after it) reads as an empty mapping.
    init?(_ node: Node, path: String, allowed: [String], diagnostics: inout Diagnostics) {
        self.node = node
        self.path = path
        if node.isNull { return }
        guard case .mapping(let mapping) = node else {
            diagnostics.report(node, path, "expected a mapping with keys \(allowed.joined(separator: ", ")), got \(node.kindDescription)")
            return nil
        }
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key else {
                diagnostics.report(key, path, "keys must be plain names, got \(key.kindDescription)")
                continue
            }
            let name = scalar.string
            guard allowed.contains(name) else {
                diagnostics.report(
                    key, childPath(path, name),
                    "unknown key \"\(name)\"; allowed keys: \(allowed.joined(separator: ", "))")
                continue
            }
            values[name] = value
            keyNodes[name] = key
        }
    }

    /// The value under `key`, or nil when the key is absent.
    subscript(key: String) -> Node? { values[key] }

    /// The node of `key` itself (its line is the line of `key:`), or nil when the key is absent.
    func keyNode(_ key: String) -> Node? { keyNodes[key] }

    /// The value under `key`; reports a missing required key when it is absent.
    func required(_ key: String, diagnostics: inout Diagnostics) -> Node? {
        guard let value = values[key] else {
            diagnostics.report(node, path, "missing required key \"\(key)\"")
            return nil
        }
        return value
    }
}
