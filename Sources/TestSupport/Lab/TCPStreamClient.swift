import Glibc
import ProxyARPPlatform

/// A TCP client for the end-to-end tests that keeps a connection busy: from inside a lab
/// namespace (the client's) it connects to a ``TCPEchoServer``, writes one 16-byte
/// numbered message every `interval` for `sending`, checks that each comes back intact
/// and in order, and records when each was sent and when its echo arrived. After
/// `sending` it waits up to `drain` for the last echoes. Everything runs on its own
/// thread; every wait is bounded.
public enum TCPStreamClient {
    /// Bytes per message: an 8-byte big-endian sequence number and 8 pattern bytes.
    public static let messageLength = 16

    /// What happened on the connection.
    public struct Report: Sendable {
        /// The connection was established.
        public var connected = false
        /// When each message was written (``now()`` nanoseconds), by sequence number.
        public var sendTimes: [Int64] = []
        /// When each echo arrived, by sequence number (only intact, in-order echoes).
        public var echoTimes: [Int64] = []
        /// Echoes that did not match the message expected next.
        public var mismatches = 0
        /// The error that ended the connection (reset, timeout, closed by the server), if any.
        public var error: String?

        /// Messages written.
        public var sent: Int { sendTimes.count }
        /// Intact echoes received.
        public var echoed: Int { echoTimes.count }

        /// Messages written at or after `instant` whose echo came back.
        public func echoedMessages(sentAfter instant: Int64) -> Int {
            zip(sendTimes, echoTimes).filter { $0.0 >= instant }.count
        }

        /// Messages written at or after `instant`.
        public func messages(sentAfter instant: Int64) -> Int {
            sendTimes.filter { $0 >= instant }.count
        }

        /// The longest time without an echo between `start` and the last echo (nanoseconds).
        public func longestSilence(after start: Int64) -> Int64 {
            var previous = start
            var longest: Int64 = 0
            for time in echoTimes where time >= start {
                longest = max(longest, time - previous)
                previous = time
            }
            return longest
        }
    }

    /// Monotonic nanoseconds (`CLOCK_MONOTONIC`): the clock of ``Report``'s times.
    public static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    /// Runs the exchange with `server` from the namespace `namespace` and returns its report.
    public static func run(
        in namespace: String, to server: LabSocketAddress, interval: Duration = .milliseconds(10),
        sending: Duration = .seconds(8), drain: Duration = .seconds(10), connectTimeout: Duration = .seconds(5)
    ) async throws -> Report {
        try await PlatformThread.run(name: "tcp-stream") {
            var report = Report()
            do throws(LabSocketError) {
                try LabNamespaceEntry.join(namespace)
                let fd = try connect(to: server, timeout: connectTimeout)
                defer { close(fd) }
                report.connected = true
                exchange(on: fd, interval: interval, sending: sending, drain: drain, into: &report)
            } catch {
                report.error = error.description
            }
            return report
        }
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }

    private static func connect(to server: LabSocketAddress, timeout: Duration) throws(LabSocketError) -> Int32 {
        let fd = socket(server.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw LabSocketError("socket", code: errno) }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let started = server.withSocketAddress { Glibc.connect(fd, $0, $1) }
        if started != 0 && errno != EINPROGRESS {
            let code = errno
            close(fd)
            throw LabSocketError("connect \(server)", code: code)
        }
        var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let ready = poll(&entry, 1, Int32(nanoseconds(timeout) / 1_000_000))
        var failure: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &length)
        guard ready == 1, failure == 0 else {
            close(fd)
            throw LabSocketError("connect \(server)", code: ready == 1 ? failure : ETIMEDOUT)
        }
        return fd
    }

    /// The message numbered `sequence`.
    static func message(_ sequence: UInt64) -> [UInt8] {
        withUnsafeBytes(of: sequence.bigEndian) { Array($0) } + [UInt8](repeating: 0xA5, count: messageLength - 8)
    }

    private static func exchange(on fd: Int32, interval: Duration, sending: Duration, drain: Duration, into report: inout Report) {
        let start = now()
        let step = max(nanoseconds(interval), 1_000_000)
        let sendingEnds = start + nanoseconds(sending)
        let givesUp = sendingEnds + nanoseconds(drain)
        var outgoing: [UInt8] = []
        var incoming: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var nextDue = start
        while true {
            let time = now()
            if time >= sendingEnds && report.echoed == report.sent { return }
            if time >= givesUp {
                report.error = "\(report.sent - report.echoed) of \(report.sent) messages not echoed within the drain time"
                return
            }
            if time < sendingEnds && time >= nextDue {
                outgoing += message(UInt64(report.sent))
                report.sendTimes.append(time)
                nextDue += step
            }
            if !outgoing.isEmpty {
                let written = outgoing.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) }
                if written > 0 {
                    outgoing.removeFirst(written)
                } else if written < 0 && errno != EAGAIN {
                    report.error = "send: \(String(cString: strerror(errno)))"
                    return
                }
            }
            let wait = time < sendingEnds ? max(0, min(nextDue - now(), step)) : 20_000_000
            var entry = pollfd(fd: fd, events: Int16(POLLIN) | (outgoing.isEmpty ? 0 : Int16(POLLOUT)), revents: 0)
            guard poll(&entry, 1, Int32(wait / 1_000_000)) > 0, entry.revents & Int16(POLLIN | POLLERR | POLLHUP) != 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count == 0 {
                report.error = "the server closed the connection"
                return
            }
            if count < 0 {
                if errno == EAGAIN { continue }
                report.error = "recv: \(String(cString: strerror(errno)))"
                return
            }
            incoming += buffer[0..<count]
            let arrived = now()
            while incoming.count >= messageLength {
                if Array(incoming[0..<messageLength]) == message(UInt64(report.echoed)) {
                    report.echoTimes.append(arrived)
                } else {
                    report.mismatches += 1
                }
                incoming.removeFirst(messageLength)
            }
        }
    }
}
