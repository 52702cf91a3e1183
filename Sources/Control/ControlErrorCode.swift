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
    /// Anything else.
    case failed
}
