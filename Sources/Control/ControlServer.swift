import Foundation
import Logging
import ProxyARPActors
import ProxyARPPlatform
import ProxyARPStateMachines
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What the control socket asks of the daemon.
public struct ControlHandlers: Sendable {
    /// The engine's status with the I/O counters.
    public var status: @Sendable () async -> StatusReport
    /// The same reload as SIGHUP: the summary, or the configuration errors.
    public var reload: @Sendable () async -> ControlReply

    /// Creates handlers.
    public init(status: @escaping @Sendable () async -> StatusReport, reload: @escaping @Sendable () async -> ControlReply) {
        self.status = status
        self.reload = reload
    }
}

/// The control socket: a Unix stream socket serving `status`, `trace` and `reload`, one
/// JSON request per line and JSON replies, to root and members of the control group.
///
/// Plain sockets on dedicated threads rather than swift-nio: a handful of operator
/// connections at most, and the package would otherwise add a large dependency for one
/// listener. The accept loop and every connection run on their own `PlatformThread`, never on the
/// cooperative pool; a request that needs the engine (`status`, `reload`) starts a task
/// and the connection's thread waits for it. `trace --follow` polls
/// ``TraceLog/records(after:limit:)`` every 200 ms while watching the client for hang-up.
///
/// A `Service`: `run()` creates the socket (removing a stale one, creating the parent
/// directory 0755 if missing), owner root, group = the control group, mode 0660, serves
/// until graceful shutdown, then stops every connection and removes the socket file.
public final class ControlServer: Service, Sendable {
    /// The socket's path.
    public let path: String
    private let group: String?
    private let handlers: ControlHandlers
    private let trace: TraceLog
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)
    private let connections = Atomic<Int>(0)

    /// Poll period of `trace --follow` and of the shutdown check.
    static let followInterval: Int32 = 200
    /// Records read from the ring per lock.
    static let chunk = 4096
    /// The longest request line accepted.
    static let maximumLine = 64 * 1024

    /// Creates the server; nothing is opened before `run()`. `listening` is called once the
    /// socket accepts connections (the daemon drops privileges only after that).
    public init(
        path: String, group: String?, handlers: ControlHandlers, trace: TraceLog, logger: Logger,
        listening: @escaping @Sendable () -> Void = {}
    ) {
        self.path = path
        self.group = group
        self.handlers = handlers
        self.trace = trace
        self.logger = logger
        self.listening = listening
    }

    private let listening: @Sendable () -> Void

    /// Serves until graceful shutdown or cancellation.
    public func run() async throws {
        let access = try PeerAccess.resolve(group: group)
        let listener = try Self.listen(at: path, access: access)
        listening()
        // Signalled, and never drained, when the server stops: every thread polls it next
        // to its own socket.
        let stop: WakeSignal
        let acceptThread: PlatformThread
        do {
            stop = try WakeSignal(name: "control")
            acceptThread = try PlatformThread.start(name: "control-accept") { [self] in
                acceptLoop(listener: listener, wake: stop, access: access)
            }
        } catch {
            close(listener)
            unlink(path)
            throw ControlSocketError.system(error.operation, error.code)
        }
        logger.info(
            "control socket listening",
            metadata: ["path": "\(path)", "group": "\(group ?? "(root only)")", "mode": "0660"]
        )

        try? await gracefulShutdown()
        stopping.store(true, ordering: .releasing)
        stop.signal()
        // The accept loop ends within one poll of the signal.
        acceptThread.join()
        // Connection threads notice the wake-up within one poll; bounded wait.
        for _ in 0..<100 where connections.load(ordering: .acquiring) > 0 {
            try? await Task.sleep(for: .milliseconds(20))
        }
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
        guard Glibc.listen(fd, 16) == 0 else {
            let code = errno
            close(fd)
            unlink(path)
            throw .system("listen \(path)", code)
        }
        return fd
    }

    // MARK: Threads

    private func acceptLoop(listener: Int32, wake: WakeSignal, access: PeerAccess) {
        while !stopping.load(ordering: .acquiring) {
            var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0), pollfd(fd: wake.descriptor, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                logger.error("control socket poll failed", metadata: ["error": "\(String(cString: strerror(errno)))"])
                return
            }
            if fds[1].revents != 0 { return }
            guard fds[0].revents & Int16(POLLIN) != 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            connections.add(1, ordering: .acquiringAndReleasing)
            do {
                // Detached: the thread ends with its connection; `run()` waits for the count
                // of open connections, not for each thread.
                try PlatformThread.start(name: "control-conn") { [self] in
                    serve(client, wake: wake, access: access)
                    close(client)
                    connections.subtract(1, ordering: .acquiringAndReleasing)
                }.detach()
            } catch {
                logger.error("control connection refused: \(error)")
                close(client)
                connections.subtract(1, ordering: .acquiringAndReleasing)
            }
        }
    }

    /// One connection: check the peer, then answer its request lines until it hangs up.
    private func serve(_ fd: Int32, wake: WakeSignal, access: PeerAccess) {
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard let peer = PeerAccess.peerCredentials(of: fd) else {
            _ = send(fd, reply: .failure("permission denied: cannot read peer credentials", code: .permissionDenied))
            return
        }
        if let refusal = access.refusal(uid: peer.uid, gid: peer.gid) {
            logger.warning("control connection refused", metadata: ["uid": "\(peer.uid)", "gid": "\(peer.gid)", "pid": "\(peer.pid)"])
            _ = send(fd, reply: .failure(refusal, code: .permissionDenied))
            return
        }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !stopping.load(ordering: .acquiring) {
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                if line.allSatisfy(\.isWhitespace) { continue }
                guard handle(line, on: fd, wake: wake, peer: peer) else { return }
            }
            guard buffer.count <= Self.maximumLine else {
                _ = send(fd, reply: .failure("request line longer than \(Self.maximumLine) bytes", code: .requestTooLong))
                return
            }
            guard waitReadable(fd, wake: wake, milliseconds: -1) else { return }
            let count = recv(fd, &chunk, chunk.count, 0)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return }
            buffer += chunk[..<count]
        }
    }

    /// Answers one request line; false when the connection must close.
    private func handle(_ line: String, on fd: Int32, wake: WakeSignal, peer: PeerCredentials) -> Bool {
        let request: ControlRequest
        do {
            request = try ControlCodec.decode(ControlRequest.self, from: line)
        } catch {
            return send(fd, reply: .failure("bad request: \(error)", code: .badRequest))
        }
        logger.debug("control request", metadata: ["command": "\(request.command.rawValue)", "uid": "\(peer.uid)"])
        switch request.command {
        case .status:
            let handlers = self.handlers
            guard let report = Self.wait({ await handlers.status() }) else {
                return send(fd, reply: .failure("status unavailable: no file descriptor left"))
            }
            return send(fd, reply: ControlReply(ok: true, status: report))
        case .reload:
            logger.info("control socket: reloading configuration", metadata: ["uid": "\(peer.uid)"])
            let handlers = self.handlers
            return send(fd, reply: Self.wait({ await handlers.reload() }) ?? .failure("reload unavailable: no file descriptor left"))
        case .trace:
            return streamTrace(request, to: fd, wake: wake)
        }
    }

    /// Sends the matching records held now, then either an end marker or, with follow,
    /// every new matching record until the client hangs up or the daemon stops.
    private func streamTrace(_ request: ControlRequest, to fd: Int32, wake: WakeSignal) -> Bool {
        var after: UInt64 = 0
        var sent = 0
        func drain() -> Bool {
            while true {
                let (records, _) = trace.records(after: after, limit: Self.chunk)
                guard let last = records.last else { return true }
                after = last.sequence
                let matching = records.filter(request.matches)
                if !matching.isEmpty {
                    guard let text = try? TraceFile.encode(matching), sendAll(fd, Array(text.utf8)) else { return false }
                    sent += matching.count
                }
                if records.count < Self.chunk { return true }
            }
        }
        guard drain() else { return false }
        guard request.follow == true else {
            return send(fd, reply: ControlReply(ok: true, end: .init(records: sent, dropped: trace.dropped)))
        }
        var scratch = [UInt8](repeating: 0, count: 512)
        while !stopping.load(ordering: .acquiring) {
            var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wake.descriptor, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, Self.followInterval)
            if ready < 0, errno != EINTR { return false }
            if fds[1].revents != 0 { return false }
            if fds[0].revents != 0 {
                // Anything the client sends while following is ignored; end of file is a hang-up.
                let count = recv(fd, &scratch, scratch.count, Int32(MSG_DONTWAIT))
                if count == 0 || (count < 0 && errno != EAGAIN && errno != EINTR) { return false }
            }
            guard drain() else { return false }
        }
        return false
    }

    // MARK: Helpers

    /// Waits (this dedicated thread, not the cooperative pool) for `body` run as a task.
    /// `nil` when no wake signal could be made (no file descriptor left).
    private static func wait<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T? {
        guard let done = try? WakeSignal(name: "control-wait") else { return nil }
        let box = ResultBox<T>()
        Task {
            let value = await body()
            box.value.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        return box.value.withLock { $0 }
    }

    /// Waits until `fd` has input or the server stops; false on stop.
    private func waitReadable(_ fd: Int32, wake: WakeSignal, milliseconds: Int32) -> Bool {
        while true {
            var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wake.descriptor, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, milliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                return false
            }
            return fds[1].revents == 0
        }
    }

    private func send(_ fd: Int32, reply: ControlReply) -> Bool {
        guard let line = try? ControlCodec.lineBytes(reply) else { return false }
        return sendAll(fd, line)
    }

    private func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += count
        }
        return true
    }
}

/// Carries a task's result to the thread waiting for it.
private final class ResultBox<T: Sendable>: Sendable {
    let value = Mutex<T?>(nil)
}
