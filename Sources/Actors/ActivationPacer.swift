/// Bounds how many VIPs announce at once (are in `broadcast`), so that activating 10,000
/// VIPs, or failing over thousands at once, is a paced stream of announcement waves
/// rather than one burst whose confirmations arrive after their timeouts.
///
/// A VIP takes a permit before it asks the selector for an agent and gives it back when
/// it leaves `broadcast` (confirmed, or back to `pending`). Waiters are served in order.
///
/// A waiting VIP holds no task: it is queued here, and its actor is told when its turn
/// comes (``VIPActor/permitGranted()``). With 100,000 VIPs waiting, a suspended task each
/// (a few KB of async frames) would be most of the daemon's memory.
public actor ActivationPacer {
    private let permits: Int
    private var inUse = 0
    private var waiters = FIFOQueue<VIPActor>()
    private var closed = false

    /// Creates a pacer allowing `permits` VIPs in `broadcast` at once (at least 1).
    public init(permits: Int) {
        self.permits = max(1, permits)
    }

    /// The default: 256 VIPs announcing at once.
    public static let defaultPermits = 256

    /// Takes a permit for `vip`: true when one was free and nobody was waiting. Otherwise
    /// `vip` is queued and false returned; its actor gets the permit later, through
    /// ``VIPActor/permitGranted()``. After ``close()`` nothing is granted or queued.
    func acquire(for vip: VIPActor) -> Bool {
        if closed { return false }
        if inUse < permits && waiters.isEmpty {
            inUse += 1
            return true
        }
        waiters.append(vip)
        return false
    }

    /// Gives a permit back, handing it straight to the first waiter if any.
    func release() {
        guard let next = waiters.popFirst() else {
            inUse = max(0, inUse - 1)
            return
        }
        Task { await next.permitGranted() }
    }

    /// The daemon is stopping: forget every waiter and grant nothing more.
    func close() {
        closed = true
        waiters = FIFOQueue()
    }

    /// Permits in use and VIPs waiting, for status and tests.
    public var load: (inUse: Int, waiting: Int) { (inUse, waiters.count) }
}
