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

    /// Opens `adapter`'s capture again from scratch (its MAC read again), closing any
    /// capture still open on it: for an adapter that was deleted and re-created. The
    /// capture answers and observes at once. Never blocks the caller's thread.
    func openCapture(on adapter: AdapterName) async throws(CaptureError)

    /// Closes `adapter`'s capture (the adapter was deleted): it stops answering and
    /// observing, and sends on it throw ``TransmitError`` `.closed` until it is opened
    /// again. Closed already is fine.
    func closeCapture(on adapter: AdapterName) async
}
