import Subprocess
import Synchronization
import SystemPackage

/// A process a lab starts inside a namespace (the daemon, tcpdump, ping), its output going to
/// a log file. Only this process (by its PID) is ever signalled.
public final class LabProcess: Sendable {
    /// Where the daemon's stdout and stderr go.
    public let logPath: String
    private let pid = ProcessID()
    private let task: Task<Int32?, any Error>
    private let stopRequest: AsyncStream<Void>.Continuation

    /// Starts `binary arguments...` inside `namespace`.
    public init(binary: String, namespace: String, arguments: [String], logPath: String) throws {
        self.logPath = logPath
        let log = try FileDescriptor.open(
            FilePath(logPath), .writeOnly, options: [.create, .truncate], permissions: [.ownerReadWrite, .groupRead, .otherRead]
        )
        let (stops, stopRequest) = AsyncStream.makeStream(of: Void.self)
        self.stopRequest = stopRequest
        let pid = self.pid
        task = Task {
            let outcome = try await Subprocess.run(
                .name("ip"), arguments: Arguments(["netns", "exec", namespace, binary] + arguments),
                input: .none,
                output: .fileDescriptor(log, closeAfterSpawningProcess: false),
                error: .fileDescriptor(log, closeAfterSpawningProcess: false)
            ) { execution in
                pid.value.store(execution.processIdentifier.value, ordering: .releasing)
                for await _ in stops { break }
                try? execution.send(signal: .terminate)
            }
            try? log.close()
            if case .exited(let code) = outcome.terminationStatus { return code }
            return nil
        }
    }

    /// The process id, once started (`ip netns exec` execs the daemon in place).
    public var processIdentifier: Int32? {
        let value = pid.value.load(ordering: .acquiring)
        return value == 0 ? nil : value
    }

    /// Sends `signal` (e.g. SIGHUP, SIGUSR1) to the process.
    public func send(_ signal: Int32) {
        guard let pid = processIdentifier else { return }
        kill(pid, signal)
    }

    /// Sends SIGTERM and waits for the exit; after `timeout` sends SIGKILL. Returns the
    /// exit code (nil when killed by a signal).
    @discardableResult
    public func stop(timeout: Duration = .seconds(5)) async -> Int32? {
        stopRequest.yield()
        let pid = processIdentifier
        let killer = Task {
            try await Task.sleep(for: timeout)
            if let pid { kill(pid, SIGKILL) }
        }
        let code = try? await task.value
        killer.cancel()
        return code ?? nil
    }

    /// True while the process has not exited.
    public var isRunning: Bool {
        guard let pid = processIdentifier else { return false }
        return kill(pid, 0) == 0
    }
}

/// The child's pid, shared between the launching task and the signalling API.
private final class ProcessID: Sendable {
    let value = Atomic<Int32>(0)
}

#if canImport(Glibc)
import Glibc
#endif
