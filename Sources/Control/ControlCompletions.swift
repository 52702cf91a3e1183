import ProxyARPPlatform
import Synchronization

/// Replies finished by tasks (`status`, `reload` wait for the engine) on their way back
/// to the control loop's thread: queued under a lock, then a wake-up of the loop.
final class ControlCompletions: Sendable {
    /// One finished request: the connection it belongs to and its reply.
    struct Completion: Sendable {
        var connection: UInt64
        var reply: ControlReply
    }

    /// Polled by the loop; drained when it takes the queue.
    let wake: WakeSignal
    private let queue = Mutex<[Completion]>([])

    init() throws(ThreadError) {
        wake = try WakeSignal(name: "control-done")
    }

    /// Queues `reply` for `connection` and wakes the loop (any thread).
    func finish(_ connection: UInt64, _ reply: ControlReply) {
        queue.withLock { $0.append(Completion(connection: connection, reply: reply)) }
        wake.signal()
    }

    /// Everything queued so far (the loop's thread).
    func take() -> [Completion] {
        wake.drain()
        return queue.withLock { queue in
            defer { queue.removeAll() }
            return queue
        }
    }
}
