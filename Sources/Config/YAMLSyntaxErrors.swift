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
            let names = duplicates.map { "\"\($0)\"" }.joined(separator: ", ")
            report(line: context.mark.line, column: context.mark.column, "", "duplicate key \(names) in one mapping")
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
}
