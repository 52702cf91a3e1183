import ProxyARPCore
import ProxyARPStateMachines
import Synchronization

/// What a timer wakes when it fires.
enum TimerTarget: Sendable, Equatable {
    /// A VIP's machine timer.
    case vip(IPAddress, VIPTimerID)
    /// An adapter's hold-down, of its machine's attempt `epoch`.
    case holdDown(AdapterName, epoch: UInt64)
    /// The selector's preemption check for a `preempt` VIP.
    case preemptCheck(IPAddress)
}

/// A timer that came due: its target and the token ``EngineTimers/schedule(_:at:)`` gave.
struct DueTimer: Sendable {
    /// The token the owner holds while the timer is armed.
    var token: UInt64
    /// What to wake.
    var target: TimerTarget
}

/// Every timer of the engine (VIPs' rounds and confirmations, adapters' hold-downs, the
/// selector's preemption checks) in one heap, run by the engine's task group.
///
/// A task per armed timer (sleeping in `clock.sleep`) costs its allocation and async
/// frames, about 3 KB: with 100,000 VIPs between announcement rounds, or with the periodic
/// refresh on, that was hundreds of MB. Here an armed timer is one heap entry, and the
/// engine keeps one sleeping child task per distinct earliest deadline: when a timer is
/// armed earlier than every sleeper, the mailbox is asked for a sleeper
/// (``EngineInput/sleep(until:)``); a woken sleeper posts ``EngineInput/timersDue(sleeperDeadline:)``.
/// A sleeper made obsolete by an earlier one simply wakes later and finds nothing due.
///
/// Owners drop fires whose token they no longer hold; cancelled timers are not fired at
/// all. After ``stop()`` nothing is armed or fired.
final class EngineTimers: Sendable {
    private struct Entry: Comparable {
        var deadline: Instant
        /// Unique and increasing: equal deadlines fire in the order they were armed.
        var token: UInt64
        var target: TimerTarget

        static func < (lhs: Entry, rhs: Entry) -> Bool {
            (lhs.deadline, lhs.token) < (rhs.deadline, rhs.token)
        }

        static func == (lhs: Entry, rhs: Entry) -> Bool { lhs.token == rhs.token }
    }

    private struct State {
        var heap = MinHeap<Entry>()
        /// Tokens armed and not cancelled: the entries that still fire.
        var armed: Set<UInt64> = []
        var nextToken: UInt64 = 0
        /// Deadlines of the sleepers asked for and not yet woken.
        var sleepers: [Instant] = []
        var stopped = false
    }

    private let mailbox: EngineMailbox
    private let state = Mutex(State())

    /// Creates the timers of the engine that reads `mailbox`.
    init(mailbox: EngineMailbox) {
        self.mailbox = mailbox
    }

    /// Arms a timer for `target` at `deadline`; returns the token the fire carries.
    func schedule(_ target: TimerTarget, at deadline: Instant) -> UInt64 {
        let (token, needsSleeper) = state.withLock { state -> (UInt64, Bool) in
            state.nextToken += 1
            let token = state.nextToken
            guard !state.stopped else { return (token, false) }
            state.heap.insert(Entry(deadline: deadline, token: token, target: target))
            state.armed.insert(token)
            if let earliest = state.sleepers.min(), earliest <= deadline { return (token, false) }
            state.sleepers.append(deadline)
            return (token, true)
        }
        if needsSleeper { mailbox.post(.sleep(until: deadline)) }
        return token
    }

    /// Cancels the timer `token` (unknown or fired tokens are ignored).
    func cancel(_ token: UInt64) {
        _ = state.withLock { $0.armed.remove(token) }
    }

    /// The sleeper for `deadline` woke at `now`: returns the timers due, in deadline order,
    /// and asks for a sleeper for the next deadline if none sleeps until then. The woken
    /// sleeper is forgotten whatever `now` says: a sleep that returns a little early (the
    /// task sleep's clock is not the one `now` reads) must not leave its deadline looking
    /// covered by a sleeper that no longer exists, or every later timer would wait for an
    /// unrelated earlier one.
    func fireDue(sleeperDeadline deadline: Instant, now: Instant) -> [DueTimer] {
        let (due, next) = state.withLock { state -> ([DueTimer], Instant?) in
            if let index = state.sleepers.firstIndex(of: deadline) { state.sleepers.remove(at: index) }
            state.sleepers.removeAll { $0 <= now }
            var due: [DueTimer] = []
            while let first = state.heap.first, first.deadline <= now {
                let entry = state.heap.popFirst()!
                if state.armed.remove(entry.token) != nil { due.append(DueTimer(token: entry.token, target: entry.target)) }
            }
            guard !state.stopped, let next = state.heap.first?.deadline else {
                if state.heap.count == 0 { state.armed = [] }  // give the storage back once drained
                return (due, nil)
            }
            if let earliest = state.sleepers.min(), earliest <= next { return (due, nil) }
            state.sleepers.append(next)
            return (due, next)
        }
        if let next { mailbox.post(.sleep(until: next)) }
        return due
    }

    /// Forgets every timer; nothing is armed or fired from now on: the engine stopped.
    func stop() {
        state.withLock { state in
            state.stopped = true
            state.heap = MinHeap()
            state.armed = []
            state.sleepers = []
        }
    }

    /// Timers armed and not yet fired or cancelled, for tests.
    var armedCount: Int { state.withLock { $0.armed.count } }
}
