/// The engine's access to frames on the managed adapters: send announcements, publish
/// what to answer, and hear what the captures observed. The real implementation is the
/// batched pcap I/O; tests use an in-memory wire.
public protocol FrameIO: Sendable {
    /// Where the engine publishes answer tables; the answer path reads it once per batch.
    var answerTable: AnswerTablePublisher { get }

    /// Sends `frames` out of `adapter`, in order. Throws ``TransmitError`` when the
    /// adapter refused a frame.
    func send(_ frames: [[UInt8]], on adapter: AdapterName) async throws(TransmitError)

    /// Observations heard on any adapter, one element per capture batch.
    func observations() -> AsyncStream<[HeardObservation]>
}
