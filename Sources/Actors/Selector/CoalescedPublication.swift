/// The callers of a selector pass that publish their change together, with the next pass.
///
/// One answer table per VIP confirmed costs a publication per VIP: a copy of the changed
/// shard, then every observer of the publisher (the capture filters, the `tc` guard, the
/// XDP mirror). At 33,000 VIPs activating on one host that was a few percent of the
/// machine for nothing, since the next table replaced it within microseconds. A caller
/// whose change may wait for the next pass parks here; the first one asks for a pass,
/// and every pass (its own or one another input triggered first) resumes all parked
/// callers once its table is published.
struct CoalescedPublication: ~Copyable {
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// Creates an empty list of waiters.
    init() {}

    /// Parks `waiter` until the next pass; true when it is the first, which must ask for it.
    mutating func wait(_ waiter: CheckedContinuation<Void, Never>) -> Bool {
        waiters.append(waiter)
        return waiters.count == 1
    }

    /// A pass published its table (or had nothing to publish): resumes every parked caller.
    mutating func published() {
        guard !waiters.isEmpty else { return }
        let resumed = waiters
        waiters = []
        for waiter in resumed { waiter.resume() }
    }
}
