import Glibc
import Logging
@testable import ProxyARPDaemon
import Testing

/// A datagram socket the test binds, standing in for systemd's notify socket.
final class NotifySocket {
    let descriptor: Int32
    /// The path, or `@name` for the abstract namespace.
    let name: String

    init(abstract: Bool) throws {
        let unique = "proxyarpd-notify-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        name = abstract ? "@\(unique)" : "/tmp/\(unique).sock"
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(name.utf8)
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard descriptor >= 0, bound == 0 else { throw SocketError(errno: errno) }
    }

    struct SocketError: Error { var errno: Int32 }

    /// The next datagram (nil after 2 s).
    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        return count < 0 ? nil : String(decoding: buffer.prefix(count), as: UTF8.self)
    }

    deinit {
        close(descriptor)
        if !name.hasPrefix("@") { unlink(name) }
    }
}

@Suite("sd_notify over a real socket", .serialized)
struct SystemdNotifierTests {
    let logger = Logger(label: "test")

    @Test("Every message arrives as one datagram with exactly its text", arguments: [false, true])
    func datagrams(abstract: Bool) throws {
        let socket = try NotifySocket(abstract: abstract)
        let notifier = try #require(SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.name], logger: logger))
        let messages: [(SystemdMessage, String)] = [
            (.ready(active: 2, of: 5), "READY=1\nSTATUS=2 of 5 VIPs active"),
            (.watchdog, "WATCHDOG=1"),
            (.reloading(monotonicMicroseconds: 42), "RELOADING=1\nMONOTONIC_USEC=42"),
            (.reloaded, "READY=1"),
            (.stopping, "STOPPING=1\nSTATUS=withdrawing VIPs"),
        ]
        for (message, datagram) in messages {
            #expect(notifier.notify(message))
            #expect(socket.receive() == datagram)
        }
    }

    @Test("The watchdog pings every half WATCHDOG_USEC, only when WATCHDOG_PID is ours or unset")
    func watchdogInterval() throws {
        let socket = try NotifySocket(abstract: false)
        let ours = SystemdNotifier(
            environment: ["NOTIFY_SOCKET": socket.name, "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "\(getpid())"],
            logger: logger)
        #expect(ours?.watchdogInterval == .seconds(15))
        let unset = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.name, "WATCHDOG_USEC": "4000000"], logger: logger)
        #expect(unset?.watchdogInterval == .seconds(2))
        let another = SystemdNotifier(
            environment: ["NOTIFY_SOCKET": socket.name, "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"], logger: logger)
        #expect(another != nil)
        #expect(another?.watchdogInterval == nil)
    }

    @Test("No notifier outside systemd, or for a socket name that is neither a path nor @abstract")
    func notUnderSystemd() {
        #expect(SystemdNotifier(environment: [:], logger: logger) == nil)
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": "relative.sock"], logger: logger) == nil)
    }
}
