import Synchronization

/// The one input stream of the engine: every producer (the link and capture feeders,
/// the selector, the timers) posts here without waiting, and `Engine.run` consumes it.
///
/// Once finished (the engine stops), posts are dropped and counted: nothing reaches an
/// engine that no longer runs.
final class EngineMailbox: Sendable {
    /// The inputs, in the order they were posted.
    let inputs: AsyncStream<EngineInput>
    private let continuation: AsyncStream<EngineInput>.Continuation
    private let dropped = Atomic<Int>(0)

    /// Creates an open mailbox.
    init() {
        (inputs, continuation) = AsyncStream.makeStream(of: EngineInput.self, bufferingPolicy: .unbounded)
    }

    /// Posts `input`; dropped (and counted) once the mailbox is finished.
    func post(_ input: EngineInput) {
        if case .terminated = continuation.yield(input) {
            dropped.add(1, ordering: .relaxed)
        }
    }

    /// No more inputs: the run loop ends once it has read what was posted before.
    func finish() {
        continuation.finish()
    }

    /// Inputs posted after ``finish()``, dropped.
    var droppedCount: Int { dropped.load(ordering: .relaxed) }
}
