/// Every problem found in one configuration file: the loader collects them all
/// instead of stopping at the first.
public struct ConfigurationErrors: Error, Sendable, Equatable, CustomStringConvertible {
    /// The problems, sorted by line (then column), each printable on its own line.
    public var errors: [ConfigurationError]

    /// Wraps a list of problems, sorting them by position (stable for equal positions).
    public init(_ errors: [ConfigurationError]) {
        self.errors = errors.enumerated()
            .sorted { lhs, rhs in
                let left = (lhs.element.line, lhs.element.column ?? 0, lhs.offset)
                let right = (rhs.element.line, rhs.element.column ?? 0, rhs.offset)
                return left < right
            }
            .map(\.element)
    }

    /// One problem per line, in file order.
    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }
}
