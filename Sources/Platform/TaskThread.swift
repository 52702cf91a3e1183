import Glibc
import ProxyARPCore
import Synchronization

/// A `TaskExecutor` on one dedicated ``PlatformThread``, with timers of its own: see
/// ``DedicatedTaskThread``. A task that prefers it runs its nonisolated code on this thread,
/// and ``sleep(until:)`` is ended by this thread's `poll(2)` timeout, not by a timer job
/// queued behind the cooperative pool's work. Continuations resumed elsewhere (an HTTP
/// reply on a NIO event loop) bring the task back here directly.
///
/// Sendable by construction: all state is behind a `Mutex`. Jobs enqueued after
/// ``shutdown()`` never run: stop using the thread first.
public final class TaskThread: DedicatedTaskThread, Sendable {
    private struct Sleeper: Sendable {
        var deadline: Int64
        var id: UInt64
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State: Sendable {
        var jobs: [UnownedJob] = []
        var sleepers: [Sleeper] = []
        var nextSleeper: UInt64 = 0
        var stopping = false
    }

    /// The thread's name (at most 15 bytes are given to the kernel).
    public let name: String
    private let state = Mutex(State())
    private let wakeSignal: WakeSignal
    private let thread = Mutex<PlatformThread?>(nil)

    /// Starts the thread.
    /// - Throws: ``ThreadError`` when the eventfd or the thread cannot be created.
    public init(name: String) throws(ThreadError) {
        self.name = name
        wakeSignal = try WakeSignal(name: name)
        let started = try PlatformThread.start(name: name) { [self] in runLoop() }
        thread.withLock { $0 = started }
    }

    /// Queues `job` and wakes the thread.
    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        state.withLock { $0.jobs.append(unowned) }
        wakeSignal.signal()
    }

    /// Suspends until `deadline`; this thread resumes the task. Throws `CancellationError`
    /// when the task is cancelled, or when the thread is shut down.
    public func sleep(until deadline: Instant) async throws {
        let id = state.withLock { state in
            state.nextSleeper &+= 1
            return state.nextSleeper
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let refused = state.withLock { state in
                    guard !state.stopping, !Task.isCancelled else { return true }
                    state.sleepers.append(Sleeper(deadline: deadline.nanoseconds, id: id, continuation: continuation))
                    return false
                }
                if refused {
                    continuation.resume(throwing: CancellationError())
                } else {
                    wakeSignal.signal()
                }
            }
        } onCancel: {
            let sleeper = state.withLock { state in
                state.sleepers.firstIndex { $0.id == id }.map { state.sleepers.remove(at: $0) }
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Ends the sleeps (with `CancellationError`), runs the jobs still queued, ends the loop
    /// and joins the thread. Idempotent; not to be called on the thread itself.
    public func shutdown() {
        state.withLock { $0.stopping = true }
        wakeSignal.signal()
        thread.withLock { $0.take() }?.join()
    }

    private func runLoop() {
        let executor = asUnownedTaskExecutor()
        var jobs: [UnownedJob] = []
        var due: [Sleeper] = []
        while true {
            state.withLock { swap(&jobs, &$0.jobs) }
            for job in jobs { job.runSynchronously(on: executor) }
            jobs.removeAll(keepingCapacity: true)

            let now = MonotonicClock.now().nanoseconds
            let (stopping, moreJobs, nearest) = state.withLock { state in
                if state.stopping {
                    swap(&due, &state.sleepers)
                } else {
                    due = state.sleepers.filter { $0.deadline <= now }
                    state.sleepers.removeAll { $0.deadline <= now }
                }
                return (state.stopping, !state.jobs.isEmpty, state.sleepers.map(\.deadline).min())
            }
            for sleeper in due {
                if stopping {
                    sleeper.continuation.resume(throwing: CancellationError())
                } else {
                    sleeper.continuation.resume()  // the task is enqueued here again
                }
            }
            let resumed = !due.isEmpty
            due.removeAll(keepingCapacity: true)
            if stopping && !moreJobs && !resumed { break }

            var timeout: Int32 = -1
            if moreJobs || resumed {
                timeout = 0
            } else if let nearest {
                // Round up: waking a millisecond early would only go round again.
                timeout = Int32(clamping: (nearest - now + 999_999) / 1_000_000)
            }
            var descriptor = pollfd(fd: wakeSignal.descriptor, events: Int16(POLLIN), revents: 0)
            if poll(&descriptor, 1, timeout) > 0 { wakeSignal.drain() }
        }
    }
}
