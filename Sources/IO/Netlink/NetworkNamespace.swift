import CLinuxNet
import Glibc
import Synchronization

/// Network-namespace entry for the netlink code, on ``PlatformThread``s.
///
/// A netlink socket, and a `/proc/sys/net` file, belong to the network namespace of
/// the thread that creates/opens them, for the rest of their life. So to work inside a
/// namespace (tests, the demo) without moving the whole process, the code joins it
/// with `setns(2)` on a short-lived helper thread, creates the descriptor there, and
/// lets the thread exit: the descriptor keeps the namespace.
enum NetworkNamespace {
    /// Starts a ``PlatformThread`` running `body`.
    static func startThread(named name: String, _ body: @escaping @Sendable () -> Void) throws(NetlinkError) -> PlatformThread {
        do {
            return try PlatformThread.start(name: name, body)
        } catch {
            throw NetlinkError(operation: "pthread_create", code: error.code)
        }
    }

    /// Moves the calling thread into the network namespace at `path` (`/var/run/netns/NAME`).
    static func join(_ path: String) throws(NetlinkError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw NetlinkError(operation: "open \(path)", code: errno) }
        defer { close(fd) }
        guard cln_setns(fd, CLN_CLONE_NEWNET) == 0 else {
            throw NetlinkError(operation: "setns \(path)", code: errno)
        }
    }

    /// Runs `body` in the network namespace at `path` (on a helper thread that joins it
    /// and then exits), or directly on the calling thread when `path` is nil.
    /// The caller blocks until `body` returns.
    static func run<T: Sendable>(
        in path: String?, _ body: @escaping @Sendable () throws(NetlinkError) -> T
    ) throws(NetlinkError) -> T {
        guard let path else { return try body() }
        let box = ResultBox<T>()
        let thread = try startThread(named: "netns-helper") {
            let outcome: Result<T, NetlinkError>
            do throws(NetlinkError) {
                try join(path)
                outcome = .success(try body())
            } catch {
                outcome = .failure(error)
            }
            box.value.withLock { $0 = outcome }
        }
        thread.join()
        guard let outcome = box.value.withLock({ $0 }) else {
            throw NetlinkError(operation: "namespace thread for \(path)", code: EPROTO)
        }
        return try outcome.get()
    }
}

/// Hands a helper thread's result back to the joining thread.
private final class ResultBox<T: Sendable>: Sendable {
    let value = Mutex<Result<T, NetlinkError>?>(nil)
}
