#if canImport(Glibc)
import Glibc
#endif

/// A Unix stream socket and the address of a filesystem path: the part the control
/// server (`bind`) and the client (`connect`) share.
enum UnixStreamSocket {
    /// Opens a close-on-exec stream socket and runs `operation` (`bind` or `connect`) on
    /// it with `path`'s address. On failure the socket is closed and the error names
    /// `what` and `path`.
    static func open(
        _ path: String, what: String,
        _ operation: (Int32, UnsafePointer<sockaddr>, socklen_t) -> Int32
    ) throws(ControlSocketError) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw ControlSocketError(.misconfigured, "socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system("socket") }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                operation(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw .system("\(what) \(path)", code)
        }
        return fd
    }
}
