import Logging
import Synchronization

/// A log handler that prints nothing and counts the engine's `VIP active` lines: the probe
/// waits on this count, as the scale script greps the daemon's log.
struct ActivationCounter: LogHandler {
    /// Shared by every copy of the handler.
    static let active = Atomic<Int>(0)

    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        if event.message.description == "VIP active" { Self.active.add(1, ordering: .relaxed) }
    }
}
