import Logging
import ProxyARPActors
import ProxyARPPlatform

#if canImport(Glibc)
import Glibc
#endif

/// The control socket's one thread: a `poll(2)` loop over the listening socket, every
/// client (non-blocking) and two wake signals (stop, finished requests).
///
/// Bounded whatever the clients do: at most ``ControlLimits/maximumClients`` connections
/// (one more closes the longest-idle client with a `tooManyClients` reply, or, when every
/// client is busy, gets that reply itself), idle clients closed after
/// ``ControlLimits/idleTimeout``, a request and its reply bounded by
/// ``ControlLimits/requestTimeout``, `trace --follow` output bounded per client (records
/// beyond it dropped, counted and the count sent). When the process is out of file
/// descriptors (`EMFILE`/`ENFILE`) the loop gives a spare descriptor back to accept the
/// waiting client, tells it `unavailable` and closes it, and stops polling the listener
/// for a growing pause: no busy loop, and the daemon keeps a descriptor for SIGUSR1.
///
/// `status` and `reload` wait for the engine in a task; the loop keeps serving others
/// and picks the reply up through ``ControlCompletions``. Replies are encoded here, on
/// this thread, never on the cooperative pool.
final class ControlEventLoop {
    private let listener: Int32
    private let stop: WakeSignal
    private let completions: ControlCompletions
    private let access: PeerAccess
    private let handlers: ControlHandlers
    private let trace: TraceLog
    private let limits: ControlLimits
    private let logger: Logger
    private let counters: ControlServerCounters

    private var connections: [UInt64: ControlConnection] = [:]
    private var nextID: UInt64 = 1
    /// Kept open to be closed when the process is out of descriptors (see the type's comment).
    private var spare: Int32 = -1
    /// While set (monotonic nanoseconds), the listener is not polled.
    private var acceptPausedUntil: Int64?
    private var backoff: Duration
    private var lastShortageLog: Int64 = .min

    /// Poll period while clients are connected: timeouts and `trace --follow`.
    static let tick: Int32 = 200
    /// Records read from the trace ring per lock.
    static let chunk = 4096
    /// The longest request line accepted.
    static let maximumLine = 64 * 1024

    init(
        listener: Int32, stop: WakeSignal, completions: ControlCompletions, access: PeerAccess, handlers: ControlHandlers,
        trace: TraceLog, limits: ControlLimits, counters: ControlServerCounters, logger: Logger
    ) {
        self.listener = listener
        self.stop = stop
        self.completions = completions
        self.access = access
        self.handlers = handlers
        self.trace = trace
        self.limits = limits
        self.counters = counters
        self.logger = logger
        backoff = limits.acceptBackoff
    }

    /// Serves until `stop` is signalled, then closes every client.
    func run() {
        spare = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer {
            for connection in connections.values { close(connection.fd) }
            connections.removeAll()
            counters.setOpen(0)
            if spare >= 0 { close(spare) }
        }
        while !stop.isSignalled {
            var now = MonotonicClock.now().nanoseconds
            if let until = acceptPausedUntil, now >= until { acceptPausedUntil = nil }
            var fds = [
                pollfd(fd: stop.descriptor, events: Int16(POLLIN), revents: 0),
                pollfd(fd: completions.wake.descriptor, events: Int16(POLLIN), revents: 0),
                pollfd(fd: acceptPausedUntil == nil ? listener : -1, events: Int16(POLLIN), revents: 0),
            ]
            let order = Array(connections.keys)
            for id in order {
                let connection = connections[id]!
                var events: Int32 = 0
                // One request at a time per client: its next line waits in `input`.
                if connection.busySince == nil, !connection.closeWhenFlushed { events |= Int32(POLLIN) }
                if connection.pendingOutput > 0 { events |= Int32(POLLOUT) }
                fds.append(pollfd(fd: connection.fd, events: Int16(events), revents: 0))
            }
            let timeout: Int32 = connections.isEmpty && acceptPausedUntil == nil ? -1 : Self.tick
            let ready = poll(&fds, nfds_t(fds.count), timeout)
            if ready < 0 {
                if errno == EINTR { continue }
                logger.error("control socket poll failed", metadata: ["error": "\(String(cString: strerror(errno)))"])
                return
            }
            if fds[0].revents != 0 { return }
            now = MonotonicClock.now().nanoseconds
            if fds[1].revents != 0 { deliverCompletions(now: now) }
            if fds[2].revents != 0 { acceptClients(now: now) }
            for (index, id) in order.enumerated() {
                let revents = Int32(fds[3 + index].revents)
                guard revents != 0, connections[id] != nil else { continue }
                if revents & Int32(POLLIN | POLLHUP | POLLERR) != 0, !receive(id, now: now) {
                    drop(id)
                    continue
                }
                if revents & Int32(POLLOUT) != 0, connections[id]?.flush(now: now) == false {
                    drop(id)
                    continue
                }
            }
            for id in order where connections[id] != nil { step(id, now: now) }
        }
    }

    // MARK: Accepting

    private func acceptClients(now: Int64) {
        // Bounded: the listen backlog is small; the rest waits for the next round.
        for _ in 0..<64 {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                switch errno {
                case EINTR: continue
                case EMFILE, ENFILE: outOfDescriptors(now: now)
                default: break
                }
                return
            }
            backoff = limits.acceptBackoff
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            if connections.count >= limits.maximumClients, !evictIdlest() {
                counters.refused()
                Self.refuse(fd, .failure(
                    "too many control clients (at most \(limits.maximumClients)); try again", code: .tooManyClients))
                continue
            }
            guard let peer = PeerAccess.peerCredentials(of: fd) else {
                Self.refuse(fd, .failure("permission denied: cannot read peer credentials", code: .permissionDenied))
                continue
            }
            if let refusal = access.refusal(uid: peer.uid, gid: peer.gid) {
                logger.warning("control connection refused", metadata: ["uid": "\(peer.uid)", "gid": "\(peer.gid)", "pid": "\(peer.pid)"])
                Self.refuse(fd, .failure(refusal, code: .permissionDenied))
                continue
            }
            let id = nextID
            nextID += 1
            connections[id] = ControlConnection(id: id, fd: fd, peer: peer, now: now)
            counters.setOpen(connections.count)
        }
    }

    /// At the cap, the client idle the longest (no request, no output, not following) makes
    /// room for the new one: it is told `tooManyClients` and closed. False when every
    /// client is busy, and the new one is refused instead. So idle connections can never
    /// lock an operator out of `status`.
    private func evictIdlest() -> Bool {
        guard let idlest = connections.values.filter({ $0.isIdle && !$0.closeWhenFlushed })
            .min(by: { ($0.lastActivity, $0.id) < ($1.lastActivity, $1.id) })
        else { return false }
        counters.refused()
        connections[idlest.id] = nil
        Self.refuse(idlest.fd, .failure(
            "closed to make room: too many control clients (at most \(limits.maximumClients))", code: .tooManyClients))
        counters.setOpen(connections.count)
        return true
    }

    /// The process has no descriptor left: answer the waiting client through the spare
    /// one, and pause the listener (doubling) so the loop does not spin.
    private func outOfDescriptors(now: Int64) {
        counters.refused()
        if spare >= 0 {
            close(spare)
            let fd = accept(listener, nil, nil)
            if fd >= 0 {
                Self.refuse(fd, .failure("the daemon is out of file descriptors; try again", code: .unavailable))
            }
            spare = open("/dev/null", O_RDONLY | O_CLOEXEC)
        }
        acceptPausedUntil = now + backoff.nanosecondsClamped
        if now - lastShortageLog >= 10_000_000_000 {
            lastShortageLog = now
            logger.warning(
                "control socket: out of file descriptors; pausing accept",
                metadata: ["pause": "\(backoff)", "clients": "\(connections.count)"]
            )
        }
        backoff = min(backoff * 2, limits.acceptBackoffMaximum)
    }

    /// Best effort: one short line fits the socket buffer of a fresh connection.
    private static func refuse(_ fd: Int32, _ reply: ControlReply) {
        if let bytes = try? ControlCodec.lineBytes(reply) {
            _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        }
        close(fd)
    }

    // MARK: Serving

    /// Reads what the client sent; false when it hung up or failed.
    private func receive(_ id: UInt64, now: Int64) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        // Bounded: at most the longest line plus one chunk per round.
        for _ in 0..<(Self.maximumLine / chunk.count + 1) {
            let count = recv(connections[id]!.fd, &chunk, chunk.count, Int32(MSG_DONTWAIT))
            if count < 0 {
                if errno == EINTR { continue }
                return errno == EAGAIN || errno == EWOULDBLOCK
            }
            guard count > 0 else { return false }
            connections[id]!.lastActivity = now
            if connections[id]!.follow != nil { continue }  // ignored while following
            connections[id]!.input += chunk[..<count]
            if connections[id]!.input.count > Self.maximumLine { return true }
        }
        return true
    }

    /// Handles the next request line, follows the trace, applies the timeouts, sends.
    private func step(_ id: UInt64, now: Int64) {
        guard var connection = connections[id] else { return }
        defer { if connections[id] != nil { connections[id] = connection } }
        if connection.busySince == nil, connection.follow == nil, !connection.closeWhenFlushed {
            while let newline = connection.input.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: connection.input[..<newline], as: UTF8.self)
                connection.input.removeSubrange(...newline)
                if line.allSatisfy(\.isWhitespace) { continue }
                handle(line, on: &connection, now: now)
                if connection.busySince != nil || connection.follow != nil || connection.closeWhenFlushed { break }
            }
            if connection.input.count > Self.maximumLine, connection.busySince == nil {
                connection.input = []
                enqueue(.failure("request line longer than \(Self.maximumLine) bytes", code: .requestTooLong), to: &connection)
                connection.closeWhenFlushed = true
            }
        }
        if connection.follow != nil { follow(&connection) }
        if let since = connection.busySince, now - since > limits.requestTimeout.nanosecondsClamped {
            counters.timedOut()
            connection.busySince = nil
            enqueue(.failure("request timed out after \(limits.requestTimeout)", code: .timedOut), to: &connection)
            connection.closeWhenFlushed = true
        } else if connection.pendingOutput > 0, connection.follow == nil,
            now - connection.lastActivity > limits.requestTimeout.nanosecondsClamped
        {
            // The client does not read its reply.
            counters.timedOut()
            close(connection.fd)
            connections[id] = nil
            counters.setOpen(connections.count)
            return
        } else if connection.isIdle, !connection.closeWhenFlushed,
            now - connection.lastActivity > limits.idleTimeout.nanosecondsClamped
        {
            counters.timedOut()
            enqueue(.failure("idle for \(limits.idleTimeout); closing", code: .idleTimeout), to: &connection)
            connection.closeWhenFlushed = true
        }
        guard connection.flush(now: now) else {
            close(connection.fd)
            connections[id] = nil
            counters.setOpen(connections.count)
            return
        }
        if connection.closeWhenFlushed, connection.pendingOutput == 0 {
            close(connection.fd)
            connections[id] = nil
            counters.setOpen(connections.count)
        }
    }

    private func handle(_ line: String, on connection: inout ControlConnection, now: Int64) {
        let request: ControlRequest
        do {
            request = try ControlCodec.decode(ControlRequest.self, from: line)
        } catch {
            enqueue(.failure("bad request: \(error)", code: .badRequest), to: &connection)
            return
        }
        logger.debug("control request", metadata: ["command": "\(request.command.rawValue)", "uid": "\(connection.peer.uid)"])
        let (id, completions, handlers) = (connection.id, completions, handlers)
        switch request.command {
        case .status:
            connection.busySince = now
            Task {
                completions.finish(id, ControlReply(ok: true, status: await handlers.status(request)))
            }
        case .reload:
            logger.info("control socket: reloading configuration", metadata: ["uid": "\(connection.peer.uid)"])
            connection.busySince = now
            Task { completions.finish(id, await handlers.reload()) }
        case .trace:
            if request.follow == true {
                connection.follow = ControlConnection.Follow(request: request, after: 0)
                return
            }
            var after: UInt64 = 0
            var sent = 0
            while true {
                let (records, _) = trace.records(after: after, limit: Self.chunk)
                guard let last = records.last else { break }
                after = last.sequence
                let matching = records.filter(request.matches)
                if !matching.isEmpty, let text = try? TraceFile.encode(matching) {
                    connection.enqueue(Array(text.utf8))
                    sent += matching.count
                }
                if records.count < Self.chunk { break }
            }
            enqueue(ControlReply(ok: true, end: .init(records: sent, dropped: trace.dropped)), to: &connection)
        }
    }

    /// Appends the records that arrived since the last look, within the client's backlog;
    /// beyond it they are skipped and counted, and the count is sent once there is room.
    private func follow(_ connection: inout ControlConnection) {
        guard var follow = connection.follow else { return }
        defer { connection.follow = follow }
        // Bounded: the ring holds a finite number of records after `after`.
        while true {
            let (records, _) = trace.records(after: follow.after, limit: Self.chunk)
            guard let last = records.last else { break }
            follow.after = last.sequence
            let matching = records.filter(follow.request.matches)
            if !matching.isEmpty {
                if connection.pendingOutput >= limits.followBacklogBytes {
                    follow.dropped += UInt64(matching.count)
                    counters.followDropped(matching.count)
                } else {
                    if follow.dropped > follow.reported {
                        enqueue(ControlReply(ok: true, followDropped: follow.dropped), to: &connection)
                        follow.reported = follow.dropped
                    }
                    if let text = try? TraceFile.encode(matching) { connection.enqueue(Array(text.utf8)) }
                }
            }
            if records.count < Self.chunk { break }
        }
        if follow.dropped > follow.reported, connection.pendingOutput < limits.followBacklogBytes {
            enqueue(ControlReply(ok: true, followDropped: follow.dropped), to: &connection)
            follow.reported = follow.dropped
        }
    }

    private func deliverCompletions(now: Int64) {
        for completion in completions.take() {
            guard var connection = connections[completion.connection], connection.busySince != nil else { continue }
            connection.busySince = nil
            connection.lastActivity = now
            enqueue(completion.reply, to: &connection)
            connections[completion.connection] = connection
        }
    }

    private func enqueue(_ reply: ControlReply, to connection: inout ControlConnection) {
        if let bytes = try? ControlCodec.lineBytes(reply) { connection.enqueue(bytes) }
    }

    private func drop(_ id: UInt64) {
        guard let connection = connections.removeValue(forKey: id) else { return }
        close(connection.fd)
        counters.setOpen(connections.count)
    }
}
