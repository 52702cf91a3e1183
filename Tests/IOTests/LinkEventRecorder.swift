import ProxyARPCore
import Synchronization

/// Collects a link-event stream in the background, with the time each event arrived.
final class LinkEventRecorder: Sendable {
    private let task: Task<Void, Never>

    init(_ stream: AsyncStream<LinkEvent>) {
        let box = Box()
        task = Task.detached {
            for await event in stream {
                box.append(event, at: .now)
            }
        }
        self.box = box
    }

    private let box: Box

    private final class Box: Sendable {
        let events = Mutex<[(event: LinkEvent, at: ContinuousClock.Instant)]>([])
        func append(_ event: LinkEvent, at instant: ContinuousClock.Instant) {
            events.withLock { $0.append((event, instant)) }
        }
    }

    /// Every event so far.
    var events: [LinkEvent] { box.events.withLock { $0.map(\.event) } }

    /// Waits (polling every 5 ms, at most `seconds`) for an event after position `from`
    /// that satisfies `predicate`; returns it with its arrival time and position.
    func wait(
        from start: Int = 0, seconds: Double = 5, _ predicate: (LinkEvent) -> Bool
    ) async -> (event: LinkEvent, at: ContinuousClock.Instant, position: Int)? {
        let rounds = Int(seconds / 0.005)
        for _ in 0..<rounds {
            let snapshot = box.events.withLock { $0 }
            if start < snapshot.count {
                for position in start..<snapshot.count where predicate(snapshot[position].event) {
                    return (snapshot[position].event, snapshot[position].at, position)
                }
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }

    var count: Int { box.events.withLock { $0.count } }

    func cancel() { task.cancel() }
}

extension LinkEvent {
    /// The state when this is `.changed` for `name`.
    func state(of name: String) -> LinkState? {
        if case .changed(let state) = self, state.name.rawValue == name { return state }
        return nil
    }
}
