#if canImport(Glibc)
import Glibc
#endif

/// The control socket could not be set up or used: why as a ``Code`` a caller can branch
/// on, and a sentence for people.
public struct ControlSocketError: Error, CustomStringConvertible, Equatable {
    /// The cause.
    public enum Code: Sendable, Hashable {
        /// No daemon listens there (`ENOENT`, `ECONNREFUSED` on connect).
        case notRunning
        /// The socket's mode or the daemon refused this user (`EACCES`, `EPERM`).
        case permissionDenied
        /// The socket cannot be set up as configured: its path too long, not a socket, its
        /// directory not creatable, or the control group unknown.
        case misconfigured
        /// The daemon closed the connection without a reply.
        case noReply
        /// The daemon answered with a failure of this cause.
        case refused(ControlErrorCode)
        /// Any other system error, with its `errno`.
        case system(Int32)
    }

    /// The cause.
    public var code: Code
    /// What went wrong.
    public var description: String

    /// Creates an error.
    public init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }

    /// `what: strerror(errno)`, its code sorted from `errno`.
    static func system(_ what: String, _ errorNumber: Int32 = errno) -> ControlSocketError {
        let code: Code =
            switch errorNumber {
            case ENOENT, ECONNREFUSED: .notRunning
            case EACCES, EPERM: .permissionDenied
            case ENAMETOOLONG, ENOTSOCK: .misconfigured
            default: .system(errorNumber)
            }
        return ControlSocketError(code, "\(what): \(String(cString: strerror(errorNumber)))")
    }
}
