import Synchronization

/// Hands the latest ``AnswerTable`` from the control plane to the answer path.
///
/// Writers take a mutex; readers first compare an atomic generation number with the
/// one they hold (one relaxed load per batch, no lock) and take the mutex only when a
/// new table was published. See hummingbird's `DateCache` for the same idea.
public final class AnswerTablePublisher: Sendable {
    private let generation = Atomic<UInt64>(0)
    private let table = Mutex<AnswerTable>(.empty)
    private let mirror: (@Sendable (AnswerTable) -> Void)?
    /// Cluster mode's fence: the answer path answers and announces only while it allows.
    /// Open for good without cluster mode.
    public let fence = FenceGate()
    /// Where each agent's VIPs go first if its link fails: published by the selector beside
    /// the tables, read by the link monitor's thread (``StandbyPlan``).
    public let standbys = StandbyPlanBoard()
    private let observers = Mutex<(next: UInt64, handlers: [UInt64: @Sendable () -> Void])>((0, [:]))

    /// Creates a publisher holding the empty table. `mirror`, if given, is called with every
    /// published table after it became current, on the publisher's thread (the XDP fast
    /// path copies it into its maps there).
    public init(mirror: (@Sendable (AnswerTable) -> Void)? = nil) {
        self.mirror = mirror
    }

    /// Makes `newTable` current. Its generation must be higher than the current one.
    public func publish(_ newTable: AnswerTable) {
        table.withLock { $0 = newTable }
        generation.store(newTable.generation, ordering: .releasing)
        mirror?(newTable)
        for handler in observers.withLock({ Array($0.handlers.values) }) { handler() }
    }

    /// Calls `handler` after every ``publish(_:)`` (on the publisher's thread: it must
    /// only hand work off, e.g. start a task). Returns the token for ``removeObserver(_:)``.
    public func addObserver(_ handler: @escaping @Sendable () -> Void) -> UInt64 {
        observers.withLock { state in
            state.next += 1
            state.handlers[state.next] = handler
            return state.next
        }
    }

    /// Stops calling the handler registered with `token`.
    public func removeObserver(_ token: UInt64) {
        _ = observers.withLock { $0.handlers.removeValue(forKey: token) }
    }

    /// The current table (takes the lock; use ``AnswerTableReader`` on hot paths).
    public var current: AnswerTable { table.withLock { $0 } }

    /// The generation of the current table, without a lock.
    public var currentGeneration: UInt64 { generation.load(ordering: .acquiring) }
}

/// A hot-path reader of an ``AnswerTablePublisher``: keeps the last table it saw and
/// reloads it only when the publisher's generation moved.
public struct AnswerTableReader: Sendable {
    private let publisher: AnswerTablePublisher
    /// The table as of the last ``refresh()``.
    public private(set) var table: AnswerTable

    /// Creates a reader holding the publisher's current table.
    public init(publisher: AnswerTablePublisher) {
        self.publisher = publisher
        self.table = publisher.current
    }

    /// Reloads the table if a newer one was published. Returns true when it changed.
    @discardableResult
    public mutating func refresh() -> Bool {
        guard publisher.currentGeneration != table.generation else { return false }
        table = publisher.current
        return true
    }
}
