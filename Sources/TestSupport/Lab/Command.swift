import Subprocess
import SystemPackage

/// Runs the lab's external tools (`ip`, `arping`, `ping`) and collects their output.
/// Only labs use this; the daemon itself never shells out.
public enum Command {
    /// What a finished command printed and how it ended.
    public struct Result: Sendable {
        /// The command line, for messages.
        public var commandLine: String
        /// Standard output.
        public var output: String
        /// Standard error.
        public var error: String
        /// Exit code, or nil when killed by a signal.
        public var exitCode: Int32?

        /// True on exit code 0.
        public var succeeded: Bool { exitCode == 0 }
    }

    /// A command failed.
    public struct Failure: Error, CustomStringConvertible {
        /// The result.
        public var result: Result

        /// `ip ... failed (2): RTNETLINK answers: ...`.
        public var description: String {
            "\(result.commandLine) failed (\(result.exitCode.map(String.init) ?? "signal")): \(result.error)\(result.output)"
        }
    }

    /// Runs `executable` (a path, or a name looked up in PATH) with `arguments`; throws ``Failure`` on a
    /// non-zero exit unless `check` is false.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], check: Bool = true) async throws -> Result {
        let outcome = try await Subprocess.run(
            executable.contains("/") ? .path(FilePath(executable)) : .name(executable), arguments: Arguments(arguments),
            output: .string(limit: 4 << 20), error: .string(limit: 1 << 20)
        )
        var exitCode: Int32?
        if case .exited(let code) = outcome.terminationStatus { exitCode = code }
        let result = Result(
            commandLine: ([executable] + arguments).joined(separator: " "),
            output: outcome.standardOutput, error: outcome.standardError, exitCode: exitCode
        )
        if check && !result.succeeded { throw Failure(result: result) }
        return result
    }
}
