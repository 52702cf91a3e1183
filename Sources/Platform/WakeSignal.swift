import CLinuxNet
import Glibc

/// An `eventfd` that wakes threads blocked in `poll(2)`: the one wake mechanism of the
/// daemon's own threads. Poll ``descriptor`` for `POLLIN`.
///
/// Two uses: a loop that reads its jobs after each wake-up calls ``drain()`` (the
/// executor); a stop signal that every thread of a group polls is simply never drained,
/// so it stays readable for all of them (the link monitor, the control socket).
/// Sendable by construction: one immutable descriptor, closed with the signal.
public final class WakeSignal: Sendable {
    /// The eventfd to poll.
    public let descriptor: Int32

    /// Creates the eventfd (non-blocking, close-on-exec).
    /// - Throws: ``ThreadError`` with `errno` when the kernel refuses.
    public init(name: String) throws(ThreadError) {
        let fd = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard fd >= 0 else { throw ThreadError(name: name, operation: "eventfd", code: errno) }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Makes ``descriptor`` readable (until drained).
    public func signal() {
        var one: UInt64 = 1
        _ = write(descriptor, &one, MemoryLayout<UInt64>.size)
    }

    /// Consumes the pending signals: ``descriptor`` is no longer readable.
    public func drain() {
        var value: UInt64 = 0
        _ = read(descriptor, &value, MemoryLayout<UInt64>.size)
    }

    /// Blocks the calling thread (one of the daemon's own, never the cooperative pool) in
    /// `poll(2)` until ``signal()`` is called; does not consume the signal.
    public func wait() {
        var descriptors = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        while poll(&descriptors, 1, -1) <= 0 {}  // EINTR: poll again
    }

    /// True once ``signal()`` was called and not drained (does not consume it).
    public var isSignalled: Bool {
        var descriptors = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&descriptors, 1, 0) > 0
    }
}
