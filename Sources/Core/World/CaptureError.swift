/// An adapter's capture could not be opened at run time (``FrameIO/openCapture(on:)``):
/// which adapter, and the I/O layer's words for the log.
public struct CaptureError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The adapter whose capture failed to open.
    public var adapter: AdapterName
    /// What the I/O layer said (a pcap call, reading the MAC, starting the thread).
    public var reason: String

    /// Creates the error.
    public init(adapter: AdapterName, reason: String) {
        self.adapter = adapter
        self.reason = reason
    }

    /// `opening the capture on eth0 failed: ...`.
    public var description: String { "opening the capture on \(adapter) failed: \(reason)" }
}
