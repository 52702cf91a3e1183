import Glibc

/// A step of the privilege drop failed; the daemon stops rather than run as root.
struct PrivilegeDropError: Error, CustomStringConvertible {
    var step: String
    var message: String
    var code: Int32

    static func errno(_ step: String) -> PrivilegeDropError {
        let code = Glibc.errno
        return PrivilegeDropError(step: step, message: String(cString: strerror(code)), code: code)
    }

    var description: String { "privilege drop failed at \(step): \(message)" }
}
