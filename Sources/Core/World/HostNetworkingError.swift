/// A host-networking change (``HostNetworking``) failed: what was being done, and why as
/// a ``Code`` a caller can branch on.
public struct HostNetworkingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Why the kernel refused, by cause.
    public enum Code: Sendable, Hashable {
        /// The process lacks the privilege (`EPERM`, `EACCES`: CAP_NET_ADMIN missing).
        case permissionDenied
        /// No such interface (`ENODEV`), or not a valid interface name.
        case noSuchDevice
        /// It is there already (`EEXIST`).
        case exists
        /// It is not there (`ENOENT`, `ESRCH`, `EADDRNOTAVAIL`).
        case notFound
        /// An argument out of range (`EINVAL`): a bad prefix length or rule priority.
        case invalidArgument
        /// No room left (`ENOSPC`): more rule sections than priorities allow.
        case noSpace
        /// Any other kernel error, with its `errno`.
        case kernel(Int32)
    }

    /// The cause.
    public var code: Code
    /// What was being done: `"RTM_NEWRULE from 198.18.0.5/32 lookup 20003"`.
    public var operation: String
    /// The kernel's words for it (`strerror`), for logs.
    public var message: String

    /// Creates an error.
    public init(code: Code, operation: String, message: String) {
        self.code = code
        self.operation = operation
        self.message = message
    }

    /// `OPERATION: MESSAGE`.
    public var description: String { "\(operation): \(message)" }
}
