/// Bounds how many VIPs announce at once (are in `broadcast`), so that activating 10,000
/// VIPs, or failing over thousands at once, is a paced stream of announcement waves
/// rather than one burst whose confirmations arrive after their timeouts.
///
/// A VIP takes a permit before it asks the selector for an agent and gives it back when
/// it leaves `broadcast` (confirmed, or back to `pending`). Waiters are served in order.
public actor ActivationPacer {
    private let permits: Int
    private var inUse = 0
    private var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
    private var nextID: UInt64 = 0

    /// Creates a pacer allowing `permits` VIPs in `broadcast` at once (at least 1).
    public init(permits: Int) {
        self.permits = max(1, permits)
    }

    /// The default: 256 VIPs announcing at once.
    public static let defaultPermits = 256

    /// Waits for a permit. Throws `CancellationError` when the task is cancelled while
    /// waiting (the daemon is stopping).
    public func acquire() async throws {
        if inUse < permits && waiters.isEmpty {
            inUse += 1
            return
        }
        nextID += 1
        let id = nextID
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else {
                    waiters.append((id, continuation))
                }
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    /// Gives a permit back, handing it straight to the first waiter if any.
    public func release() {
        if waiters.isEmpty {
            inUse = max(0, inUse - 1)
        } else {
            waiters.removeFirst().continuation.resume()
        }
    }

    /// Permits in use and VIPs waiting, for status and tests.
    public var load: (inUse: Int, waiting: Int) { (inUse, waiters.count) }

    private func cancelWaiter(_ id: UInt64) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume(throwing: CancellationError())
    }
}
