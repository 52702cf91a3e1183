/// A live capture could not be opened, configured, read or written.
public struct PcapError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The interface the handle is (or was to be) opened on.
    public let device: String
    /// The libpcap call that failed, e.g. `pcap_activate`.
    public let operation: String
    /// libpcap's message (`pcap_geterr`, the error buffer, or `pcap_statustostr`).
    public let message: String

    /// Creates an error.
    public init(device: String, operation: String, message: String) {
        self.device = device
        self.operation = operation
        self.message = message
    }

    /// `pcap on eth9: pcap_activate failed: No such device exists (...)`.
    public var description: String { "pcap on \(device): \(operation) failed: \(message)" }
}
