/// A dedicated thread that a task can prefer as its executor (`Task(executorPreference:)`,
/// `withTaskExecutorPreference`) and sleep on: the task's nonisolated code runs there and
/// wakes from ``sleep(until:)`` there, so it never waits for Swift's cooperative pool. The
/// cluster lease keepalive runs on one: it must stay on time while the pool activates
/// thousands of VIPs.
public protocol DedicatedTaskThread: TaskExecutor {
    /// Suspends until `deadline` (monotonic, the clock of ``Instant``); the thread itself
    /// wakes the task. Throws `CancellationError` when the task is cancelled.
    func sleep(until deadline: Instant) async throws
}
