import ProxyARPCore
import Synchronization

/// The bounded hand-over of observations from the capture threads to the engine: one
/// element per capture batch that observed something. When the engine falls behind, the
/// oldest batches are dropped and counted.
public final class ObservationBuffer: Sendable {
    /// The engine's end: a single consumer.
    public let stream: AsyncStream<[HeardObservation]>
    private let continuation: AsyncStream<[HeardObservation]>.Continuation
    private let droppedBatchCount = Atomic<UInt64>(0)
    private let droppedObservationCount = Atomic<UInt64>(0)

    /// Creates a buffer holding at most `capacity` undelivered batches.
    public init(capacity: Int = 1024) {
        (stream, continuation) = AsyncStream.makeStream(of: [HeardObservation].self, bufferingPolicy: .bufferingNewest(capacity))
    }

    /// Hands over one batch's observations (empty batches are not sent).
    public func deliver(_ batch: [HeardObservation]) {
        guard !batch.isEmpty else { return }
        switch continuation.yield(batch) {
        case .enqueued: break
        case .dropped(let oldest): countDrop(oldest.count)
        case .terminated: countDrop(batch.count)
        @unknown default: break
        }
    }

    /// Ends the stream: the consumer's loop finishes after the buffered batches.
    public func finish() { continuation.finish() }

    /// Batches dropped because the buffer was full (or finished).
    public var droppedBatches: UInt64 { droppedBatchCount.load(ordering: .relaxed) }
    /// Observations in those batches.
    public var droppedObservations: UInt64 { droppedObservationCount.load(ordering: .relaxed) }

    private func countDrop(_ observations: Int) {
        droppedBatchCount.wrappingAdd(1, ordering: .relaxed)
        droppedObservationCount.wrappingAdd(UInt64(observations), ordering: .relaxed)
    }
}
