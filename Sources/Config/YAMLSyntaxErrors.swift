import Yams

extension Diagnostics {
    /// Records an error thrown by Yams while composing, at the line Yams gives.
    mutating func reportYAML(_ error: any Error) {
        guard let yamlError = error as? YamlError else {
            report(line: 1, column: nil, "", "cannot parse YAML: \(error)")
            return
        }
        switch yamlError {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            var reason = "YAML syntax error: \(problem)"
            if let context { reason += " (\(context.text) at line \(context.mark.line))" }
            report(line: mark.line, column: mark.column, "", reason)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let first = context.mark
            guard let key = duplicates.first,
                let repeated = Self.lineOfRepeatedKey(key, after: first, in: context.text)
            else {
                let names = duplicates.map { "\"\($0)\"" }.joined(separator: ", ")
                report(line: first.line, column: first.column, "", "duplicate key \(names) in one mapping")
                return
            }
            report(line: repeated, column: first.column, "", "duplicate key \"\(key)\" (first at line \(first.line))")
        case .reader(let problem, let offset, _, let yaml):
            var line = 1
            if let offset {
                line += yaml.unicodeScalars.prefix(offset).filter { $0 == "\n" }.count
            }
            report(line: line, column: nil, "", "cannot read the YAML text: \(problem)")
        default:
            report(line: 1, column: nil, "", "cannot parse YAML: \(yamlError)")
        }
    }

    /// Yams points at the first of two equal keys. In block style the repeat is the next line
    /// that has the same key at the same column with only indentation (or `- `) before it;
    /// nil when there is none (flow style), and the first occurrence is reported instead.
    static func lineOfRepeatedKey(_ key: String, after first: Mark, in yaml: String) -> Int? {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        guard first.line >= 1, first.line < lines.count else { return nil }
        let indent = first.column - 1
        for number in (first.line + 1)...lines.count {
            let scalars = Array(lines[number - 1].unicodeScalars)
            guard scalars.count > indent, scalars[..<indent].allSatisfy({ $0 == " " || $0 == "-" }) else { continue }
            var rest = String(String.UnicodeScalarView(scalars[indent...]))
            for quote in ["\"", "'"] where rest.hasPrefix(quote + key + quote) {
                rest = key + rest.dropFirst(key.count + 2)
            }
            guard rest.hasPrefix(key) else { continue }
            let after = rest.dropFirst(key.count).drop { $0 == " " }
            if after.hasPrefix(":") { return number }
        }
        return nil
    }
}
