import Synchronization

/// Named listening sockets the privilege drop waits for (`metrics`, `control`).
final class StartupGate: Sendable {
    private let state: Mutex<Set<String>>

    init(waitingFor names: Set<String>) {
        state = Mutex(names)
    }

    /// The sockets not open yet.
    var pending: Set<String> { state.withLock { $0 } }

    /// `name`'s socket is open.
    func opened(_ name: String) {
        _ = state.withLock { $0.remove(name) }
    }

    /// Waits until every socket is open (polling every 10 ms); false after `timeout`.
    func waitUntilOpen(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while !pending.isEmpty, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return pending.isEmpty
    }
}
