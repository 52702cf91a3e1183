import Foundation
import Logging
import ProxyARPActors
import ProxyARPPlatform
import ProxyARPStateMachines
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// What the control socket asks of the daemon.
public struct ControlHandlers: Sendable {
    /// The engine's status with the I/O counters, for a `status` request (which VIPs it
    /// lists: ``StatusSelection``).
    public var status: @Sendable (ControlRequest) async -> StatusReport
    /// The same reload as SIGHUP: the summary, or the configuration errors.
    public var reload: @Sendable () async -> ControlReply

    /// Creates handlers.
    public init(status: @escaping @Sendable (ControlRequest) async -> StatusReport, reload: @escaping @Sendable () async -> ControlReply) {
        self.status = status
        self.reload = reload
    }
}

/// The control socket: a Unix stream socket serving `status`, `trace` and `reload`, one
/// JSON request per line and JSON replies, to root and members of the control group.
///
/// Plain sockets rather than swift-nio: a handful of operator connections at most, and
/// the package would otherwise add a large dependency for one listener. One
/// `PlatformThread` runs a ``ControlEventLoop`` (`poll(2)` over the listener and every
/// client), never the cooperative pool, within ``ControlLimits``: a cap on clients, idle and
/// request timeouts, a bounded `trace --follow` backlog, and a paused accept when the process
/// is out of file descriptors.
///
/// A `Service`: `run()` creates the socket (removing a stale one, creating the parent
/// directory 0755 if missing), owner root, group = the control group, mode 0660, serves
/// until graceful shutdown, then closes every connection and removes the socket file.
public final class ControlServer: Service, Sendable {
    /// The socket's path.
    public let path: String
    /// What the bounds did so far.
    public let counters = ControlServerCounters()
    private let group: String?
    private let handlers: ControlHandlers
    private let trace: TraceLog
    private let limits: ControlLimits
    private let logger: Logger

    /// Creates the server; nothing is opened before `run()`. `listening` is called once the
    /// socket accepts connections (the daemon drops privileges only after that).
    public init(
        path: String, group: String?, handlers: ControlHandlers, trace: TraceLog, limits: ControlLimits = .standard,
        logger: Logger, listening: @escaping @Sendable () -> Void = {}
    ) {
        self.path = path
        self.group = group
        self.handlers = handlers
        self.trace = trace
        self.limits = limits
        self.logger = logger
        self.listening = listening
    }

    private let listening: @Sendable () -> Void

    /// Serves until graceful shutdown or cancellation.
    public func run() async throws {
        let access = try PeerAccess.resolve(group: group)
        let listener = try Self.listen(at: path, access: access)
        listening()
        let stop: WakeSignal
        let thread: PlatformThread
        do {
            stop = try WakeSignal(name: "control")
            let completions = try ControlCompletions()
            let (handlers, trace, limits, counters, logger) = (handlers, trace, limits, counters, logger)
            thread = try PlatformThread.start(name: "control") {
                ControlEventLoop(
                    listener: listener, stop: stop, completions: completions, access: access, handlers: handlers,
                    trace: trace, limits: limits, counters: counters, logger: logger
                ).run()
            }
        } catch {
            close(listener)
            unlink(path)
            throw ControlSocketError.system(error.operation, error.code)
        }
        logger.info(
            "control socket listening",
            metadata: [
                "path": "\(path)", "group": "\(group ?? "(root only)")", "mode": "0660",
                "max_clients": "\(limits.maximumClients)", "idle_timeout": "\(limits.idleTimeout)",
            ]
        )

        try? await gracefulShutdown()
        stop.signal()
        // The loop ends within one poll of the signal and closes every client.
        thread.join()
        close(listener)
        unlink(path)
        logger.info("control socket closed", metadata: ["path": "\(path)"])
    }

    // MARK: Socket setup

    /// Creates, binds and listens on the socket file with the right owner and mode.
    static func listen(at path: String, access: PeerAccess) throws(ControlSocketError) -> Int32 {
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty, !FileManager.default.fileExists(atPath: parent) {
            do {
                try FileManager.default.createDirectory(
                    atPath: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755]
                )
            } catch {
                throw ControlSocketError(.misconfigured, "cannot create \(parent): \(error)")
            }
        }
        var info = stat()
        if lstat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFSOCK else {
                throw ControlSocketError(.misconfigured, "\(path) exists and is not a socket; not removing it")
            }
            unlink(path)  // stale socket from an earlier run
        }
        let fd = try UnixStreamSocket.open(path, what: "bind") { bind($0, $1, $2) }
        // Not connectable before listen(), so setting owner and mode now leaves no window.
        if chown(path, 0, access.groupID ?? 0) != 0 || chmod(path, 0o660) != 0 {
            let code = errno
            close(fd)
            unlink(path)
            throw .system("setting owner and mode of \(path)", code)
        }
        guard Glibc.listen(fd, 16) == 0, fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0 else {
            let code = errno
            close(fd)
            unlink(path)
            throw .system("listen \(path)", code)
        }
        return fd
    }
}
