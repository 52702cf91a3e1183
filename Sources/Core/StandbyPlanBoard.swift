import Synchronization

/// Hands the latest ``StandbyPlan`` from the selector to the thread that reads link
/// losses. Written a few times a second at most, read once per link loss: a mutex is enough.
public final class StandbyPlanBoard: Sendable {
    private let plan = Mutex<StandbyPlan>(.empty)

    /// Creates a board holding the empty plan.
    public init() {}

    /// Makes `newPlan` current.
    public func publish(_ newPlan: StandbyPlan) {
        plan.withLock { $0 = newPlan }
    }

    /// The current plan.
    public var current: StandbyPlan { plan.withLock { $0 } }
}
