import CLinuxNet
import Glibc

/// A joinable POSIX thread: the one way the daemon starts a thread of its own (executors,
/// the link monitor, namespace helpers, the control socket's accept loop and connections).
/// Never a thread of Swift's cooperative pool.
public struct PlatformThread: Sendable, Hashable {
    /// The thread's `pthread_t`.
    public let id: pthread_t

    /// Starts a thread named `name` (at most 15 bytes reach the kernel) running `body`.
    /// - Throws: ``ThreadError`` with `pthread_create`'s status when no thread could start.
    public static func start(name: String, _ body: @escaping @Sendable () -> Void) throws(ThreadError) -> PlatformThread {
        let box = Unmanaged.passRetained(ThreadBody(name: name, body)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { context in
            // The thread owns the box's one reference until its body returns.
            Unmanaged<ThreadBody>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, box)
        guard status == 0 else {
            Unmanaged<ThreadBody>.fromOpaque(box).release()
            throw ThreadError(name: name, operation: "pthread_create", code: status)
        }
        return PlatformThread(id: thread)
    }

    /// Runs `body` on a new thread named `name` and returns its result; the caller is
    /// suspended meanwhile, so blocking work (opening a capture, joining a thread) never
    /// holds a thread of Swift's cooperative pool.
    /// - Throws: ``ThreadError`` when no thread could start (then `body` never ran).
    public static func run<T: Sendable>(name: String, _ body: @escaping @Sendable () -> T) async throws(ThreadError) -> T {
        let outcome: Result<T, ThreadError> = await withCheckedContinuation { continuation in
            do throws(ThreadError) {
                try start(name: name) { continuation.resume(returning: .success(body())) }.detach()
            } catch {
                continuation.resume(returning: .failure(error))
            }
        }
        return try outcome.get()
    }

    /// The calling thread.
    public static var current: PlatformThread { PlatformThread(id: pthread_self()) }

    /// True when called on this thread.
    public var isCurrent: Bool { pthread_equal(pthread_self(), id) != 0 }

    /// Waits for the thread to end. Call once per started thread, never from the thread itself.
    public func join() {
        pthread_join(id, nil)
    }

    /// Lets the thread's resources go when it ends, for a thread nobody joins. Call at most
    /// once, and never together with ``join()``.
    public func detach() {
        pthread_detach(id)
    }

    /// Names the calling thread (at most 15 bytes reach the kernel).
    static func nameCurrent(_ name: String) {
        _ = pthread_setname_np(pthread_self(), String(name.utf8.prefix(15)) ?? "thread")
    }
}

/// A thread's name and entry closure, passed through `pthread_create`'s context pointer.
private final class ThreadBody: Sendable {
    let name: String
    let body: @Sendable () -> Void

    init(name: String, _ body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
    }

    func run() {
        PlatformThread.nameCurrent(name)
        body()
    }
}
