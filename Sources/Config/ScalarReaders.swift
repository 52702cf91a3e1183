import Yams

/// Readers for single YAML scalars. Each returns nil after reporting a problem.
enum ScalarReaders {
    /// Any non-null scalar, as written.
    static func string(_ node: Node, _ path: String, _ diagnostics: inout Diagnostics) -> String? {
        guard case .scalar(let scalar) = node, !node.isNull else {
            diagnostics.report(node, path, "expected a string, got \(node.kindDescription)")
            return nil
        }
        return scalar.string
    }

    /// A non-empty string.
    static func nonEmptyString(_ node: Node, _ path: String, _ diagnostics: inout Diagnostics) -> String? {
        guard let text = string(node, path, &diagnostics) else { return nil }
        guard !text.isEmpty else {
            diagnostics.report(node, path, "must not be empty")
            return nil
        }
        return text
    }

    /// An absolute filesystem path, at most `maxBytes` bytes long.
    static func absolutePath(
        _ node: Node, _ path: String, maxBytes: Int = 4095, _ diagnostics: inout Diagnostics
    ) -> String? {
        guard let text = string(node, path, &diagnostics) else { return nil }
        guard text.hasPrefix("/") else {
            diagnostics.report(node, path, "\"\(text)\" is not an absolute path (it must start with \"/\")")
            return nil
        }
        guard text.utf8.count <= maxBytes, !text.utf8.contains(0) else {
            diagnostics.report(node, path, "\"\(text)\" is longer than \(maxBytes) bytes")
            return nil
        }
        return text
    }

    /// A YAML boolean (`true`/`false`; YAML 1.1 spellings such as `yes`/`no` are accepted too).
    static func bool(_ node: Node, _ path: String, _ diagnostics: inout Diagnostics) -> Bool? {
        guard node.tagName == .bool, let value = node.bool else {
            diagnostics.report(node, path, "expected true or false, got \(node.kindDescription)")
            return nil
        }
        return value
    }

    /// A plain decimal integer (underscores allowed as digit separators) inside `range`.
    ///
    /// Yams' own integer conversion also accepts octal, hex and sexagesimal (`1:30` is 90);
    /// none of those belong in this file, so the digits are parsed here.
    static func int(
        _ node: Node, _ path: String, in range: ClosedRange<Int>, _ diagnostics: inout Diagnostics
    ) -> Int? {
        guard case .scalar(let scalar) = node, node.tagName == .int else {
            diagnostics.report(node, path, "expected an integer, got \(node.kindDescription)")
            return nil
        }
        let digits = scalar.string.filter { $0 != "_" }
        guard let value = Int(digits, radix: 10) else {
            diagnostics.report(node, path, "expected a decimal integer, got \(node.kindDescription)")
            return nil
        }
        guard range.contains(value) else {
            diagnostics.report(node, path, "\(value) is out of range \(range.lowerBound)...\(range.upperBound)")
            return nil
        }
        return value
    }

    /// A duration scalar; `off` only where `allowOff` (read as zero).
    static func duration(
        _ node: Node, _ path: String, allowOff: Bool = false, _ diagnostics: inout Diagnostics
    ) -> Duration? {
        guard case .scalar(let scalar) = node, !node.isNull else {
            diagnostics.report(node, path, "expected a duration such as \"1200ms\", \"2s\" or \"5m\", got \(node.kindDescription)")
            return nil
        }
        let text = scalar.string
        if text == "off" {
            if allowOff { return .zero }
            diagnostics.report(node, path, "\"off\" is only allowed for refresh_interval; use a duration such as \"2s\" or 0")
            return nil
        }
        guard let value = DurationText.parse(text) else {
            diagnostics.report(
                node, path,
                "\"\(text)\" is not a duration: write a number and a unit (ms, s, m, h), e.g. \"1200ms\", \"1.5s\", \"5m\"")
            return nil
        }
        return value
    }
}
