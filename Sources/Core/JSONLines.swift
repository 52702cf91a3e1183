/// JSON Lines (one JSON value per line, `\n` after each): the one framing of the state
/// trace dumps and the control protocol. Core has no JSON coder (standard library only),
/// so the caller passes the per-value coder (Foundation's `JSONEncoder` with sorted keys
/// in the actors and the control module); the framing, the empty-line rule and the line
/// numbers of errors are here.
public enum JSONLines {
    /// A line that did not decode.
    public struct BadLine: Error, Sendable, Equatable, CustomStringConvertible {
        /// 1-based line number.
        public var line: Int
        /// What the per-line decoder said.
        public var reason: String

        /// Creates the error.
        public init(line: Int, reason: String) {
            self.line = line
            self.reason = reason
        }

        /// `line N: REASON`.
        public var description: String { "line \(line): \(reason)" }
    }

    /// The newline that ends every line.
    public static let newline = UInt8(ascii: "\n")

    /// `values` encoded by `encodeOne`, each followed by a newline.
    public static func encode<Value, Failure: Error>(
        _ values: some Sequence<Value>, with encodeOne: (Value) throws(Failure) -> [UInt8]
    ) throws(Failure) -> [UInt8] {
        var bytes: [UInt8] = []
        for value in values {
            bytes += try encodeOne(value)
            bytes.append(newline)
        }
        return bytes
    }

    /// Every non-empty line of `text` decoded by `decodeOne`, in order.
    /// - Throws: ``BadLine`` with the first failing line's number and the decoder's words.
    public static func decode<Value>(
        _ text: some Collection<UInt8>, with decodeOne: (ArraySlice<UInt8>) throws -> Value
    ) throws(BadLine) -> [Value] {
        var values: [Value] = []
        let bytes = Array(text)
        for (index, line) in bytes.split(separator: newline, omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            do {
                values.append(try decodeOne(line))
            } catch {
                throw BadLine(line: index + 1, reason: "\(error)")
            }
        }
        return values
    }
}
