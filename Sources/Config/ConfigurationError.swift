/// One problem found in a configuration file, with the place it was found.
///
/// Printed as `proxyarpd.yaml:12: vips[3].address: "198.18.0.300" is not an IPv4 address`,
/// the `file:line:` form editors and CI logs turn into links.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file name as given to the loader (used only for printing).
    public var fileName: String
    /// The 1-based line of the offending YAML node; 0 when the problem concerns the whole file
    /// (for example, it cannot be read).
    public var line: Int
    /// The 1-based column of the offending node, when the YAML parser reported one.
    public var column: Int?
    /// Where in the document: `vips[3].address` (list indices count from 0), `timers.hold_down`;
    /// empty for the document itself.
    public var path: String
    /// What is wrong, for a human.
    public var reason: String

    /// Creates an error record.
    public init(fileName: String, line: Int, column: Int? = nil, path: String, reason: String) {
        self.fileName = fileName
        self.line = line
        self.column = column
        self.path = path
        self.reason = reason
    }

    /// `file:line: path: reason`; the line is left out when it is 0, the path when it is empty.
    public var description: String {
        var text = fileName
        if line > 0 { text += ":\(line)" }
        text += ": "
        if !path.isEmpty { text += "\(path): " }
        return text + reason
    }
}
