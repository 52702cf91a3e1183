import CLinuxNet
import Glibc
import ProxyARPCore

/// An IPv4 or IPv6 address and a port as the socket calls take it, for the lab's TCP
/// peers (``TCPEchoServer``, ``TCPStreamClient``).
public struct LabSocketAddress: Sendable, Hashable, CustomStringConvertible {
    /// The address.
    public enum Host: Sendable, Hashable {
        /// An IPv4 address.
        case v4(IPv4Address)
        /// An IPv6 address.
        case v6(IPv6Address)
    }

    /// The address.
    public var host: Host
    /// The TCP port.
    public var port: UInt16

    /// Creates an address.
    public init(_ host: Host, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `198.18.0.100` or `2001:db8::100` (no brackets); nil when it is neither.
    public init?(_ text: String, port: UInt16) {
        if let v4 = IPv4Address(text) {
            self.init(.v4(v4), port: port)
        } else if let v6 = IPv6Address(text) {
            self.init(.v6(v6), port: port)
        } else {
            return nil
        }
    }

    /// `198.18.0.100:7` or `[2001:db8::100]:7`.
    public var description: String {
        switch host {
        case .v4(let address): "\(address):\(port)"
        case .v6(let address): "[\(address)]:\(port)"
        }
    }

    /// `AF_INET` or `AF_INET6`.
    var family: Int32 {
        switch host {
        case .v4: AF_INET
        case .v6: AF_INET6
        }
    }

    /// Calls `body` with the address as a `sockaddr` and its length.
    func withSocketAddress<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        switch host {
        case .v4(let address):
            var value = sockaddr_in()
            value.sin_family = sa_family_t(AF_INET)
            value.sin_port = port.bigEndian
            value.sin_addr.s_addr = address.rawValue.bigEndian
            return withUnsafePointer(to: &value) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .v6(let address):
            var value = sockaddr_in6()
            value.sin6_family = sa_family_t(AF_INET6)
            value.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &value.sin6_addr) { bytes in
                withUnsafeBytes(of: address.high.bigEndian) { bytes.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: 8) }
                withUnsafeBytes(of: address.low.bigEndian) { (bytes.baseAddress! + 8).copyMemory(from: $0.baseAddress!, byteCount: 8) }
            }
            return withUnsafePointer(to: &value) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
    }
}

/// A socket call of a lab TCP peer failed.
public struct LabSocketError: Error, CustomStringConvertible, Sendable {
    /// What was being done.
    public var operation: String
    /// errno.
    public var code: Int32

    /// Creates an error.
    public init(_ operation: String, code: Int32) {
        self.operation = operation
        self.code = code
    }

    /// `connect [2001:db8::100]:7: Connection refused`.
    public var description: String { "\(operation): \(String(cString: strerror(code)))" }
}

/// Network-namespace entry for the lab's sockets: a socket belongs for its whole life to
/// the namespace of the thread that created it, so it is made on a short-lived thread that
/// joined the namespace (the test process itself never moves).
enum LabNamespaceEntry {
    /// Moves the calling thread into the namespace `name` (`/var/run/netns/NAME`).
    static func join(_ name: String) throws(LabSocketError) {
        let path = NetnsLab.path(of: name)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LabSocketError("open \(path)", code: errno) }
        defer { close(fd) }
        guard cln_setns(fd, CLN_CLONE_NEWNET) == 0 else { throw LabSocketError("setns \(path)", code: errno) }
    }
}
