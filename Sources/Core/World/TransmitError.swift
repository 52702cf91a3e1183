/// A frame could not be sent: on which adapter, why as a ``Code`` a caller can branch on,
/// and the I/O layer's words for the log.
public struct TransmitError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Why the frame was not sent.
    public enum Code: Sendable, Hashable {
        /// The adapter is not one the frame I/O manages (or not attached to the wire).
        case noSuchAdapter
        /// The frame I/O is shut down, or the adapter's capture is closed.
        case closed
        /// The device refused the frame (`pcap_inject` failed: link down, buffer full...).
        /// Counts against the adapter's health.
        case refused
    }

    /// The adapter that refused it.
    public var adapter: AdapterName
    /// The cause.
    public var code: Code
    /// What the I/O layer said.
    public var reason: String

    /// Creates the error.
    public init(adapter: AdapterName, code: Code, reason: String) {
        self.adapter = adapter
        self.code = code
        self.reason = reason
    }

    /// `transmit on eth0 failed: ...`.
    public var description: String { "transmit on \(adapter) failed: \(reason)" }
}
