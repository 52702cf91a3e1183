import Logging
import Synchronization

/// A log handler that prints nothing and counts the engine's `VIP active` and `VIP failed
/// over` lines, and the VIPs a lost agent hands over: the probe waits on these counts, as
/// the scale script greps the daemon's log.
struct ActivationCounter: LogHandler {
    /// `VIP active` lines, over every copy of the handler.
    static let active = Atomic<Int>(0)
    /// `VIP failed over` lines.
    static let failedOver = Atomic<Int>(0)
    /// VIPs named by `agent lost, moving its VIPs` lines.
    static let moving = Atomic<Int>(0)

    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug  // `VIP active` is a debug line

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        switch event.message.description {
        case "VIP active": Self.active.add(1, ordering: .relaxed)
        case "VIP failed over": Self.failedOver.add(1, ordering: .relaxed)
        case "agent lost, moving its VIPs":
            if case .string(let count) = event.metadata?["vips"], let count = Int(count) {
                Self.moving.add(count, ordering: .relaxed)
            }
        default: break
        }
    }
}
