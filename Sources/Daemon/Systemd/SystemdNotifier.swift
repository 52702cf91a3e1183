import Glibc
import Logging

/// The sd_notify protocol, written directly: one datagram of `KEY=VALUE` lines to the
/// `AF_UNIX` socket named by `$NOTIFY_SOCKET` (a path, or `@name` for the abstract
/// namespace). systemd documents this as a stable interface meant to be reimplemented
/// (sd_notify(3), "NOTIFY_SOCKET"); it needs no file descriptor passing, so 60 lines of
/// Swift replace linking libsystemd into a daemon that drops its privileges.
///
/// The socket is connected once at start, while the daemon is still root: sending keeps
/// working after the switch to `daemon.user` whatever the socket file's mode.
final class SystemdNotifier: Sendable {
    private let descriptor: Int32
    /// Half of `$WATCHDOG_USEC` when the watchdog is on for this process, else nil.
    let watchdogInterval: Duration?

    /// Connects to `$NOTIFY_SOCKET`; nil when the variable is unset (not under systemd)
    /// or the socket cannot be reached (logged).
    init?(environment: [String: String], logger: Logger) {
        guard let path = environment["NOTIFY_SOCKET"], !path.isEmpty else { return nil }
        guard path.hasPrefix("/") || path.hasPrefix("@") else {
            logger.warning("NOTIFY_SOCKET ignored: not a path or @abstract name", metadata: ["socket": "\(path)"])
            return nil
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes[0] == UInt8(ascii: "@") { bytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else {
            logger.warning("NOTIFY_SOCKET ignored: path too long", metadata: ["socket": "\(path)"])
            return nil
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else {
            logger.warning("NOTIFY_SOCKET: socket() failed", metadata: ["errno": "\(errno)"])
            return nil
        }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
        }
        guard connected == 0 else {
            logger.warning("NOTIFY_SOCKET: connect failed", metadata: ["socket": "\(path)", "errno": "\(errno)"])
            close(fd)
            return nil
        }
        descriptor = fd
        // sd_watchdog_enabled(3): WATCHDOG_USEC, and WATCHDOG_PID if set must be ours.
        if let text = environment["WATCHDOG_USEC"], let usec = Int64(text), usec > 0,
            environment["WATCHDOG_PID"].map({ $0 == "\(getpid())" }) ?? true
        {
            watchdogInterval = .microseconds(usec / 2)
        } else {
            watchdogInterval = nil
        }
        // Children (none today) must not talk to systemd for us.
        unsetenv("NOTIFY_SOCKET")
        unsetenv("WATCHDOG_USEC")
        unsetenv("WATCHDOG_PID")
    }

    deinit { close(descriptor) }

    /// Sends `message` as one datagram. Returns false when the send failed.
    @discardableResult
    func notify(_ message: SystemdMessage) -> Bool {
        let bytes = Array(message.text.utf8)
        let sent = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        return sent == bytes.count
    }
}
