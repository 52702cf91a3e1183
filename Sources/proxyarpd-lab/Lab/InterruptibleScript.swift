import Foundation
import UnixSignals

/// How a lab command runs its script: until the script ends, or until SIGINT or SIGTERM
/// cancels it, so that it tears its namespaces and processes down before the command exits;
/// then the command's temporary directory goes, unless the operator asked to keep it.
enum InterruptibleScript {
    /// Runs `script`, cancelling it on SIGINT or SIGTERM; removes `directory` afterwards
    /// unless `keepFiles` (then says where it is on standard error). Returns what the script
    /// returned, or rethrows what it threw.
    static func run<T: Sendable>(
        directory: String, keepFiles: Bool, _ script: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let interrupted = Task {
            for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) { return true }
            return false
        }
        let running = Task { try await script() }
        let watcher = Task {
            if await interrupted.value {
                FileHandle.standardError.write(Data("\ninterrupted: cleaning up\n".utf8))
                running.cancel()
            }
        }
        let outcome = await running.result
        watcher.cancel()
        interrupted.cancel()
        if keepFiles {
            FileHandle.standardError.write(Data("files kept in \(directory)\n".utf8))
        } else {
            try? FileManager.default.removeItem(atPath: directory)
        }
        return try outcome.get()
    }
}
