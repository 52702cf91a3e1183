/// Why the daemon refused or failed a control request: the `code` of a failed
/// ``ControlReply``, on the wire as its raw value.
public enum ControlErrorCode: String, Sendable, Hashable, Codable {
    /// The peer is neither root nor in the control group, or its credentials are unreadable.
    case permissionDenied
    /// The line is not a valid request.
    case badRequest
    /// The request line is longer than the server accepts.
    case requestTooLong
    /// `reload`: the new file has errors; the running configuration is kept.
    case reloadRefused
    /// The server already serves its maximum number of clients; try again later.
    case tooManyClients
    /// The daemon cannot serve the connection now (out of file descriptors).
    case unavailable
    /// The client sent nothing for the idle timeout.
    case idleTimeout
    /// The request was not answered, or its reply not read, within the request timeout.
    case timedOut
    /// Anything else.
    case failed
}
