import Glibc
import ProxyARPCore
import Synchronization

/// A `SerialExecutor` backed by one dedicated thread, never the cooperative pool: the one
/// thread executor of the daemon. It starts its own ``PlatformThread``, or adopts a thread
/// that calls ``runOnCurrentThread()`` (the main thread, for the privileged work).
///
/// The thread's loop polls a ``WakeSignal`` (signalled by ``enqueue(_:)``) and, when
/// one is registered, a readable source such as a pcap selectable descriptor. Each turn it
/// runs every queued job, then, when the source polls readable, calls the source's
/// handler (which runs one capture batch through `assumeIsolated`, without a hop).
/// A handler that reports ``ReadableOutcome/failed`` takes the source out of the poll set
/// for ``errorBackoff``, so a failing descriptor cannot spin the thread.
///
/// Under load the loop coalesces wake-ups: after a handler call that handled at least
/// ``coalescingThreshold`` items, the thread sleeps ``coalescing`` before it polls again,
/// so the next call finds a batch instead of one frame (each wake-up costs a poll and two
/// context switches, several microseconds, whatever the batch size). An idle source is
/// still handled the moment it polls readable.
///
/// Sendable by construction: all state is behind a `Mutex` or in atomics.
/// Jobs enqueued after ``shutdown()`` never run: stop using the executor first.
public final class ThreadExecutor: SerialExecutor, Sendable {
    /// What one call of a ``ReadableHandler`` did.
    public enum ReadableOutcome: Sendable, Equatable {
        /// It handled this many items (frames).
        case handled(Int)
        /// It failed: the source is backed off.
        case failed
    }

    /// Runs when the readable source polls readable.
    public typealias ReadableHandler = @Sendable () -> ReadableOutcome

    /// Items a handler call must handle for the loop to coalesce before the next poll.
    public static let coalescingThreshold = 2

    /// How long a source whose handler failed stays out of the poll set.
    public static let errorBackoff: Duration = .milliseconds(100)

    private struct State: Sendable {
        var jobs: [UnownedJob] = []
        var work: [@Sendable () -> Void] = []
        var source: (descriptor: Int32, handler: ReadableHandler)?
        var stopping = false
    }

    /// The thread's name (at most 15 bytes are given to the kernel).
    public let name: String
    /// The pause before polling again after a busy handler call (zero: never pause).
    public let coalescing: Duration
    private let state = Mutex(State())
    private let wakeSignal: WakeSignal
    /// The loop thread's `pthread_t`, stored by the thread itself before it runs any job
    /// (0 until the loop runs).
    private let loopThread = Atomic<UInt>(0)
    /// The thread to join: the one ``init(name:coalescing:)`` started (nil for an
    /// executor that adopts its caller's thread, and once joined).
    private let joinThread = Mutex<PlatformThread?>(nil)

    /// Creates the executor and starts its thread. `coalescing` (under one second) is the
    /// pause after a busy handler call; see the type comment.
    /// - Throws: ``ThreadError`` when the eventfd or the thread cannot be created.
    public init(name: String, coalescing: Duration = .zero) throws(ThreadError) {
        self.name = name
        self.coalescing = min(max(coalescing, .zero), .milliseconds(999))
        wakeSignal = try WakeSignal(name: name)
        // The thread holds the executor until its loop ends (``shutdown()``).
        let thread = try PlatformThread.start(name: name) { [self] in runLoop() }
        joinThread.withLock { $0 = thread }
    }

    /// Creates an executor that starts no thread: its jobs run once a thread calls
    /// ``runOnCurrentThread()``, typically the process's main thread (which must run the
    /// privileged work after a privilege drop, as `LeaderThread` in the daemon does).
    /// - Throws: ``ThreadError`` when the eventfd cannot be created.
    public init(adoptingCallerNamed name: String) throws(ThreadError) {
        self.name = name
        self.coalescing = .zero
        wakeSignal = try WakeSignal(name: name)
    }

    /// Runs the executor's loop on the calling thread until ``shutdown()``: for an
    /// executor made with ``init(adoptingCallerNamed:)``. Call once.
    public func runOnCurrentThread() {
        precondition(loopThread.load(ordering: .acquiring) == 0, "executor \(name) already runs its loop")
        runLoop()
    }

    /// True once a thread runs the executor's loop.
    public var isRunning: Bool { loopThread.load(ordering: .acquiring) != 0 }

    /// Queues `job` and wakes the thread.
    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        state.withLock { $0.jobs.append(unowned) }
        wake()
    }

    /// Runs `work` on the executor's thread at its next turn (after the jobs taken with it), from any
    /// thread and without the cooperative pool: how a thread that is not Swift's (the link
    /// monitor's) hands work to an actor running here (`assumeIsolated` inside `work`).
    /// Work submitted after ``shutdown()`` never runs.
    public func execute(_ work: @escaping @Sendable () -> Void) {
        state.withLock { $0.work.append(work) }
        wake()
    }

    /// True when called on the executor's thread.
    public var isCurrentThread: Bool {
        pthread_equal(pthread_self(), pthread_t(loopThread.load(ordering: .acquiring))) != 0
    }

    /// Lets `assumeIsolated` succeed on the executor's thread outside a job (the readable
    /// handler), and traps anywhere else.
    public func checkIsolated() {
        precondition(isCurrentThread, "not on the \(name) executor thread")
    }

    /// True on the executor's thread (Swift 6.2 runtime hook for `assumeIsolated`).
    public func isIsolatingCurrentContext() -> Bool? {
        isCurrentThread
    }

    /// Starts polling `descriptor`; `handler` runs on the executor's thread whenever it
    /// polls readable (or reports an error). Replaces any earlier source.
    public func setReadableSource(descriptor: Int32, handler: @escaping ReadableHandler) {
        state.withLock { $0.source = (descriptor, handler) }
        wake()
    }

    /// Stops polling the readable source. Called on the executor's thread (before the
    /// descriptor is closed), it takes effect before the loop polls again.
    public func clearReadableSource() {
        state.withLock { $0.source = nil }
        wake()
    }

    /// Runs the jobs still queued, ends the loop and joins the thread. Idempotent. Called
    /// on the executor's own thread, it only asks the loop to end (a thread cannot join itself).
    public func shutdown() {
        state.withLock { $0.stopping = true }
        wake()
        guard !isCurrentThread, let thread = joinThread.withLock({ $0.take() }) else { return }
        thread.join()
    }

    private func wake() {
        wakeSignal.signal()
    }

    private func runLoop() {
        loopThread.store(UInt(PlatformThread.current.id), ordering: .releasing)
        let executor = asUnownedSerialExecutor()
        var jobs: [UnownedJob] = []
        jobs.reserveCapacity(64)
        var work: [@Sendable () -> Void] = []
        var descriptors = [pollfd](repeating: pollfd(), count: 2)
        var backoffUntil = Instant.zero

        while true {
            state.withLock { state in
                swap(&jobs, &state.jobs)
                swap(&work, &state.work)
            }
            for job in jobs { job.runSynchronously(on: executor) }
            jobs.removeAll(keepingCapacity: true)
            for item in work { item() }
            work.removeAll(keepingCapacity: true)

            let (source, stopping, moreJobs) = state.withLock { ($0.source, $0.stopping, !$0.jobs.isEmpty || !$0.work.isEmpty) }
            if stopping && !moreJobs { break }

            descriptors[0] = pollfd(fd: wakeSignal.descriptor, events: Int16(POLLIN), revents: 0)
            var count = 1
            var timeout: Int32 = moreJobs ? 0 : -1
            if let source {
                let now = MonotonicClock.now()
                if now >= backoffUntil {
                    descriptors[1] = pollfd(fd: source.descriptor, events: Int16(POLLIN), revents: 0)
                    count = 2
                } else if !moreJobs {
                    let remaining = backoffUntil.duration(since: now).nanosecondsClamped / 1_000_000
                    timeout = Int32(clamping: max(1, remaining))
                }
            }
            let ready = descriptors.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t(count), timeout) }
            guard ready > 0 else { continue }  // timeout, or EINTR: go round again
            if descriptors[0].revents != 0 { wakeSignal.drain() }
            guard count == 2, descriptors[1].revents != 0, let source else { continue }
            switch source.handler() {
            case .failed:
                backoffUntil = MonotonicClock.now().advanced(by: Self.errorBackoff)
            case .handled(let items) where items >= Self.coalescingThreshold && coalescing > .zero:
                var pause = timespec(tv_sec: 0, tv_nsec: Int(coalescing.nanosecondsClamped))
                _ = nanosleep(&pause, nil)
            case .handled:
                break
            }
        }
    }
}
