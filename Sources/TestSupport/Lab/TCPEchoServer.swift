import Glibc
import ProxyARPPlatform
import Synchronization

/// A TCP echo server for the end-to-end tests, listening inside a lab namespace (the
/// host's, bound to a VIP): every byte a client sends comes back on the same connection.
/// One thread polls the listener and its connections (at most 8) every 50 ms at most, so
/// ``stop()`` returns within about that; a connection whose echo cannot be written within
/// a second is closed (counted in ``droppedConnections``).
public final class TCPEchoServer: Sendable {
    /// The address and port it listens on.
    public let address: LabSocketAddress
    private let loop: EchoLoop
    private let thread: PlatformThread

    /// Listens on `address` inside the namespace `namespace` (bound even before the
    /// address exists there: `IP_FREEBIND`/`IPV6_FREEBIND`) and starts echoing.
    public static func start(in namespace: String, on address: LabSocketAddress) async throws -> TCPEchoServer {
        let opened: Result<Int32, LabSocketError> = try await PlatformThread.run(name: "tcp-echo-open") {
            do throws(LabSocketError) {
                try LabNamespaceEntry.join(namespace)
                return .success(try listen(on: address))
            } catch {
                return .failure(error)
            }
        }
        let loop = EchoLoop(listener: try opened.get())
        do {
            let thread = try PlatformThread.start(name: "tcp-echo") { loop.run() }
            return TCPEchoServer(address: address, loop: loop, thread: thread)
        } catch {
            close(loop.listener)
            throw error
        }
    }

    private init(address: LabSocketAddress, loop: EchoLoop, thread: PlatformThread) {
        self.address = address
        self.loop = loop
        self.thread = thread
    }

    /// Connections accepted so far.
    public var acceptedConnections: Int { loop.accepted.load(ordering: .relaxed) }
    /// Bytes echoed so far, all connections.
    public var echoedBytes: Int { loop.echoed.load(ordering: .relaxed) }
    /// Connections closed because an echo could not be written.
    public var droppedConnections: Int { loop.dropped.load(ordering: .relaxed) }

    /// Stops the thread, closes every connection and the listener. A second call does nothing.
    public func stop() async {
        guard !loop.stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let thread = self.thread
        _ = try? await PlatformThread.run(name: "tcp-echo-join") { thread.join() }
    }

    private static func listen(on address: LabSocketAddress) throws(LabSocketError) -> Int32 {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw LabSocketError("socket", code: errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        // IP_FREEBIND (15) and IPV6_FREEBIND (78), from <linux/in.h> and <linux/in6.h>.
        switch address.host {
        case .v4: setsockopt(fd, Int32(IPPROTO_IP), 15, &one, socklen_t(MemoryLayout<Int32>.size))
        case .v6:
            setsockopt(fd, Int32(IPPROTO_IPV6), 78, &one, socklen_t(MemoryLayout<Int32>.size))
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        let bound = address.withSocketAddress { bind(fd, $0, $1) }
        guard bound == 0, Glibc.listen(fd, 8) == 0 else {
            let code = errno
            close(fd)
            throw LabSocketError("bind/listen \(address)", code: code)
        }
        return fd
    }
}

/// The echo server's state shared with its thread.
private final class EchoLoop: Sendable {
    let listener: Int32
    let stopping = Atomic<Bool>(false)
    let accepted = Atomic<Int>(0)
    let echoed = Atomic<Int>(0)
    let dropped = Atomic<Int>(0)

    init(listener: Int32) {
        self.listener = listener
    }

    func run() {
        var connections: [Int32] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !stopping.load(ordering: .acquiring) {
            var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
                + connections.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            guard poll(&fds, nfds_t(fds.count), 50) > 0 else { continue }
            if fds[0].revents & Int16(POLLIN) != 0 {
                let connection = accept(listener, nil, nil)
                if connection >= 0 {
                    if connections.count < 8 {
                        _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
                        // An echo that cannot be written within a second ends the connection.
                        var timeout = timeval(tv_sec: 1, tv_usec: 0)
                        setsockopt(connection, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                        connections.append(connection)
                        accepted.add(1, ordering: .relaxed)
                    } else {
                        close(connection)
                    }
                }
            }
            var closed: [Int32] = []
            for entry in fds.dropFirst() where entry.revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                guard count > 0 else {
                    closed.append(entry.fd)
                    continue
                }
                if echo(buffer, count: count, on: entry.fd) {
                    echoed.add(count, ordering: .relaxed)
                } else {
                    dropped.add(1, ordering: .relaxed)
                    closed.append(entry.fd)
                }
            }
            for fd in closed {
                close(fd)
                connections.removeAll { $0 == fd }
            }
        }
        for fd in connections { close(fd) }
        close(listener)
    }

    /// Writes `count` bytes of `buffer` back; false when the connection failed or stalled.
    private func echo(_ buffer: [UInt8], count: Int, on fd: Int32) -> Bool {
        var offset = 0
        while offset < count {
            let written = buffer.withUnsafeBytes { send(fd, $0.baseAddress! + offset, count - offset, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }
}
