import Yams

/// Collects problems while the loader walks the document, so that one run reports them all.
struct Diagnostics {
    /// The file name printed in front of every problem.
    let fileName: String
    /// The problems so far, in discovery order.
    private(set) var errors: [ConfigurationError] = []

    init(fileName: String) {
        self.fileName = fileName
    }

    /// True when nothing has been reported yet.
    var isEmpty: Bool { errors.isEmpty }

    /// Records a problem at `node`'s position (line 1 when the node has no mark).
    mutating func report(_ node: Node?, _ path: String, _ reason: String) {
        let mark = node?.mark
        report(line: mark?.line ?? 1, column: mark?.column, path, reason)
    }

    /// Records a problem at an explicit position.
    mutating func report(line: Int, column: Int?, _ path: String, _ reason: String) {
        errors.append(ConfigurationError(fileName: fileName, line: line, column: column, path: path, reason: reason))
    }
}

extension Node {
    /// The 1-based line of the node, or 1 when Yams gave it no mark.
    var line: Int { mark?.line ?? 1 }

    /// True for an explicit or empty YAML null (`key:` with nothing after it, `~`, `null`).
    ///
    /// Decided from the text for untagged plain scalars, because resolving a tag runs Yams'
    /// regular expressions, which dominated the load time of files with 100,000 VIPs.
    var isNull: Bool {
        guard case .scalar(let scalar) = self else { return false }
        let tag = scalar.tag.rawValue
        if tag.isEmpty {
            return scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
        }
        return tag == Tag.Name.null.rawValue
    }

    /// The resolved tag's name: `.int` for a plain `3`, `.str` for a quoted `"3"`.
    var tagName: Tag.Name { Tag.Name(rawValue: tag.rawValue) }

    /// A short description of what the node is, for "expected X, got Y" messages.
    var kindDescription: String {
        switch self {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            if isNull { return "nothing" }
            return "\"\(scalar.string)\""
        }
    }
}

/// Joins a parent path and a key: `timers` + `hold_down` is `timers.hold_down`.
func childPath(_ parent: String, _ key: String) -> String {
    parent.isEmpty ? key : "\(parent).\(key)"
}
