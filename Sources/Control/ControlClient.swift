#if canImport(Glibc)
import Glibc
#endif

/// A blocking client of the control socket, for the CLI (which runs on its own main
/// thread, not on the cooperative pool).
public final class ControlClient {
    private let fd: Int32
    private var buffer: [UInt8] = []

    /// Connects to the socket at `path`. A refusal by the file's mode shows as
    /// `permission denied`.
    public init(path: String) throws(ControlSocketError) {
        let fd = try UnixStreamSocket.open(path, what: "cannot connect to the control socket") { connect($0, $1, $2) }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Sends one request line. A send error is not thrown: the daemon may already have
    /// answered with a refusal and closed, which ``readLine()`` then returns.
    public func send(_ request: ControlRequest) throws {
        let bytes = Array(try ControlCodec.line(request).utf8)
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            offset += count
        }
    }

    /// Waits at most `milliseconds` for a line or the end of the stream to be ready for
    /// ``readLine()``; false when nothing came (a monitor that must not hang on a stuck daemon).
    public func waitReadable(milliseconds: Int32) -> Bool {
        if buffer.contains(UInt8(ascii: "\n")) { return true }
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let ready = poll(&descriptor, 1, milliseconds)
            if ready < 0, errno == EINTR { continue }
            return ready > 0
        }
    }

    /// The next line (without its newline), or nil at end of stream.
    public func readLine() -> String? {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            let count = recv(fd, &chunk, chunk.count, 0)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                guard !buffer.isEmpty else { return nil }
                let line = String(decoding: buffer, as: UTF8.self)
                buffer.removeAll()
                return line
            }
            buffer += chunk[..<count]
        }
    }

    /// Sends `request` and returns the single reply (for `status` and `reload`).
    public func request(_ request: ControlRequest) throws -> ControlReply {
        try send(request)
        guard let line = readLine() else { throw ControlSocketError(.noReply, "the daemon closed the connection without a reply") }
        return try ControlCodec.decode(ControlReply.self, from: line)
    }

    /// Sends a trace request and calls `body` with each record line (JSON) until the end
    /// marker or, with follow, until the daemon closes. Throws the daemon's error reply.
    /// `dropped` hears the daemon's count of records this follower missed (it read too slowly).
    public func trace(_ request: ControlRequest, dropped: (UInt64) -> Void = { _ in }, _ body: (String) throws -> Void) throws {
        try send(request)
        while let line = readLine() {
            if let reply = ControlCodec.reply(line) {
                if !reply.ok { throw ControlSocketError(.refused(reply.code ?? .failed), reply.error ?? "trace refused") }
                if reply.end != nil { return }
                if let count = reply.followDropped { dropped(count) }
                continue
            }
            try body(line)
        }
    }
}
