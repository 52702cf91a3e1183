import Logging
import ProxyARPControl
import Synchronization

/// Applies reloads one at a time, and collapses the requests that arrive meanwhile
/// (SIGHUP, the control socket's `reload`) into one more reload of the file as it is
/// then (issue 11, failure 6: 100 SIGHUPs were applied one by one, about 50
/// announcements per changed VIP).
///
/// A request is a count and a wake-up of ``run()`` (an `AsyncStream` that keeps only the
/// newest element). Before reading the file, ``run()`` waits until no request came for
/// ``settle`` (at most ``longestWait`` in all), so a burst becomes one reload of the
/// last file: a VIP that ends where it was is not touched at all. A request already
/// covered by a reload that read the file after it was made starts nothing.
final class ReloadCoalescer: Sendable {
    private struct State {
        /// Requests so far.
        var requested: UInt64 = 0
        /// Requests covered by the reloads started so far.
        var covered: UInt64 = 0
        /// Reloads applied (or refused) so far.
        var applied: Int = 0
        /// Control-socket callers waiting for the reload that covers their request.
        var waiters: [(request: UInt64, continuation: CheckedContinuation<ControlReply, Never>)] = []
        /// Set once ``run()`` ended: new callers are answered at once.
        var finished = false
    }

    /// Quiet time after the latest request before the file is read.
    let settle: Duration
    /// The longest a request waits for the burst to end.
    let longestWait: Duration
    private let perform: @Sendable () async -> ControlReply
    private let logger: Logger
    private let state = Mutex(State())
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    /// Creates a coalescer around `perform` (one reload: load the file, apply it).
    init(
        settle: Duration = .milliseconds(200), longestWait: Duration = .seconds(2), logger: Logger,
        perform: @escaping @Sendable () async -> ControlReply
    ) {
        self.settle = settle
        self.longestWait = longestWait
        self.logger = logger
        self.perform = perform
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Reloads applied so far (each may cover many requests).
    var appliedCount: Int { state.withLock { $0.applied } }

    /// Asks for a reload and returns at once (SIGHUP).
    func request() {
        state.withLock { $0.requested += 1 }
        wake.yield()
    }

    /// Asks for a reload and waits for the reply of the reload that covers it (the
    /// control socket's `reload`).
    func requestAndWait() async -> ControlReply {
        await withCheckedContinuation { continuation in
            let finished = state.withLock { state in
                if state.finished { return true }
                state.requested += 1
                state.waiters.append((state.requested, continuation))
                return false
            }
            if finished {
                continuation.resume(returning: .failure("the daemon is shutting down", code: .unavailable))
            } else {
                wake.yield()
            }
        }
    }

    /// Applies the requested reloads until the task is cancelled (graceful shutdown).
    func run() async {
        for await _ in wakeups {
            // Let the burst end: bounded by `longestWait`.
            var waited = Duration.zero
            var seen = state.withLock { $0.requested }
            while waited < longestWait {
                try? await Task.sleep(for: settle)
                waited += settle
                let now = state.withLock { $0.requested }
                if now == seen || Task.isCancelled { break }
                seen = now
            }
            if Task.isCancelled { break }
            let (upTo, since) = state.withLock { state -> (UInt64, UInt64) in
                defer { state.covered = state.requested }
                return (state.requested, state.covered)
            }
            guard upTo > since else { continue }  // a wake-up left over from a covered request
            let reply = await perform()
            let ready = state.withLock { state in
                state.applied += 1
                let ready = state.waiters.filter { $0.request <= upTo }
                state.waiters.removeAll { $0.request <= upTo }
                return ready.map(\.continuation)
            }
            logger.info(
                "reload applied",
                metadata: [
                    "requests": "\(upTo - since)", "ok": "\(reply.ok)", "reloads": "\(appliedCount)",
                    "added": "\(reply.reload?.added ?? 0)", "removed": "\(reply.reload?.removed ?? 0)",
                    "changed": "\(reply.reload?.changed ?? 0)",
                ]
            )
            for continuation in ready { continuation.resume(returning: reply) }
        }
        let left = state.withLock { state in
            state.finished = true
            defer { state.waiters.removeAll() }
            return state.waiters.map(\.continuation)
        }
        for continuation in left { continuation.resume(returning: .failure("the daemon is shutting down", code: .unavailable)) }
    }
}
