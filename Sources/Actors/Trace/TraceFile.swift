#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ProxyARPCore
import ProxyARPStateMachines

/// Reads and writes state-trace dumps: JSON Lines, one ``MachineTraceRecord`` per line.
///
/// The one place in the actors module that uses Foundation (its JSON coder, from the
/// lighter FoundationEssentials where available): dumps are written by the daemon on
/// SIGUSR1 and read by `proxyarpd trace` and the tests.
public enum TraceFile {
    /// A line that is not a trace record.
    public struct BadLine: Error, CustomStringConvertible {
        /// The file.
        public var path: String
        /// 1-based line number.
        public var line: Int
        /// What the decoder said.
        public var reason: String
        /// `FILE:LINE: not a trace record: REASON`.
        public var description: String { "\(path):\(line): not a trace record: \(reason)" }
    }

    /// The records as JSON Lines text.
    public static func encode(_ records: [MachineTraceRecord]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try JSONLines.encode(records) { record throws in Array(try encoder.encode(record)) }, as: UTF8.self)
    }

    /// Writes `records` to `path` (mode 0640).
    public static func write(_ records: [MachineTraceRecord], to path: String) throws {
        try encode(records).write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path)
    }

    /// Reads a dump; every line must be a record.
    public static func read(_ path: String) throws -> [MachineTraceRecord] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let decoder = JSONDecoder()
        do {
            return try JSONLines.decode(text.utf8) { try decoder.decode(MachineTraceRecord.self, from: Data($0)) }
        } catch {
            throw BadLine(path: path, line: error.line, reason: error.reason)
        }
    }
}
