import CCap
import Glibc
import ProxyARPIO

/// The process's main thread (the thread-group leader) as the daemon's privileged
/// executor: IO's one ``ThreadExecutor``, adopting the main thread, which `proxyarpd`'s
/// main file hands to ``run()``.
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
public enum LeaderThread {
    /// The executor whose jobs run on the leader thread once it calls ``run()``. Its
    /// creation fails only if the process cannot get one eventfd at start.
    public static let executor: ThreadExecutor = {
        do {
            return try ThreadExecutor(adoptingCallerNamed: "proxyarpd")
        } catch {
            fatalError("proxyarpd: no eventfd for the leader thread's executor: \(error)")
        }
    }()

    /// True on the leader thread.
    static var isLeaderThread: Bool { proxyarpd_gettid() == Int(getpid()) }

    /// Runs the executor's jobs on the calling thread (which must be the leader), then
    /// exits the process when the executor is shut down.
    public static func run() -> Never {
        precondition(isLeaderThread, "LeaderThread.run must be called on the main thread")
        executor.runOnCurrentThread()
        exit(0)
    }
}
