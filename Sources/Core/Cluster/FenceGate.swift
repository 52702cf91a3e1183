import Synchronization

/// The fence deadline of cluster mode, read by the answer path once per batch and before
/// every announcement: one relaxed atomic load and a compare, no lock, no allocation.
///
/// The cluster coordinator stores the deadline (monotonic nanoseconds, the clock of
/// ``Instant``) after each acknowledged keepalive: its send time + the TTL the server
/// returned − a guard. Past it the host stops answering and announcing: its lease may have
/// expired on the server, and another host may own the VIPs. Without cluster mode the
/// gate stays open forever.
public final class FenceGate: Sendable {
    private let deadline = Atomic<Int64>(.max)
    private let fencedBatches = Atomic<UInt64>(0)

    /// An open gate (no deadline).
    public init() {}

    /// Sets the deadline; `Int64.max` opens the gate for good, `Int64.min` closes it now.
    public func setDeadline(nanoseconds: Int64) {
        deadline.store(nanoseconds, ordering: .releasing)
    }

    /// Sets the deadline to `instant`.
    public func setDeadline(_ instant: Instant) { setDeadline(nanoseconds: instant.nanoseconds) }

    /// Closes the gate at once (a keepalive reply without TTL: the lease is gone).
    public func close() { setDeadline(nanoseconds: .min) }

    /// Opens the gate for good (single-host mode, or `on_quorum_loss: hold` while etcd is down).
    public func open() { setDeadline(nanoseconds: .max) }

    /// The current deadline in monotonic nanoseconds.
    public var deadlineNanoseconds: Int64 { deadline.load(ordering: .acquiring) }

    /// True while `now` is before the deadline: answering and announcing are allowed.
    @inline(__always)
    public func allows(nowNanoseconds: Int64) -> Bool {
        nowNanoseconds < deadline.load(ordering: .relaxed)
    }

    /// Whether an announcement may leave at `now`; when not, it is counted as held back.
    public func admitsAnnouncement(nowNanoseconds: Int64) -> Bool {
        guard allows(nowNanoseconds: nowNanoseconds) else {
            countFenced()
            return false
        }
        return true
    }

    /// Counts a batch or an announcement held back by the fence (for metrics).
    public func countFenced() { fencedBatches.add(1, ordering: .relaxed) }

    /// Batches and announcements held back so far.
    public var fencedCount: UInt64 { fencedBatches.load(ordering: .relaxed) }
}
