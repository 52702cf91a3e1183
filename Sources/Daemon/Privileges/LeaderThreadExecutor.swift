import CCap
import Dispatch
import Synchronization

/// A `SerialExecutor` whose jobs run on the process's main thread (the thread-group
/// leader), which `proxyarpd`'s main file hands to ``runLoop()``.
///
/// Why: Linux credentials and capabilities are per thread. glibc's `setresuid`,
/// `setresgid` and `setgroups` change every thread of the process (nptl's setxid
/// broadcast), but `capset` changes the calling thread only, and libcap's POSIX-wide
/// mode (libpsx) needs every thread to be created through `pthread_create` wrapped at
/// link time, which the Swift runtime's and Dispatch's threads are not. So after the
/// switch to `daemon.user` exactly one thread keeps CAP_NET_RAW and CAP_NET_ADMIN, and
/// every other thread has none. That thread must be the leader (its credentials are the
/// ones `/proc/PID/status`, `ps` and `getpcaps` show) and it must run every operation
/// that still needs a capability: the rtnetlink and sysctl work of ``PrivilegedHost``.
/// Left to Swift's async main, the leader would park in `dispatch_main()`.
public final class LeaderThreadExecutor: SerialExecutor, Sendable {
    /// The one instance.
    public static let shared = LeaderThreadExecutor()

    private let jobs = Mutex<[UnownedJob]>([])
    private let wake = DispatchSemaphore(value: 0)
    private let adopted = Atomic<Bool>(false)

    private init() {}

    /// True once the main thread runs this executor's loop.
    var isRunning: Bool { adopted.load(ordering: .acquiring) }

    /// True on the leader thread.
    static var isLeaderThread: Bool { proxyarpd_gettid() == Int(getpid()) }

    /// Queues `job` for the leader thread.
    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        jobs.withLock { $0.append(unowned) }
        wake.signal()
    }

    /// Traps unless called on the leader thread.
    public func checkIsolated() {
        precondition(Self.isLeaderThread, "not on the leader thread")
    }

    /// Runs jobs on the calling thread (which must be the leader) forever.
    public func runLoop() -> Never {
        precondition(Self.isLeaderThread, "LeaderThreadExecutor.runLoop must run on the main thread")
        adopted.store(true, ordering: .releasing)
        while true {
            wake.wait()
            let batch = jobs.withLock { jobs in
                defer { jobs.removeAll(keepingCapacity: true) }
                return jobs
            }
            for job in batch { job.runSynchronously(on: asUnownedSerialExecutor()) }
        }
    }
}
