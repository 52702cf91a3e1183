import ProxyARPCore
import ProxyARPStateMachines
import Synchronization

/// Every VIP's timers, run by one sleeping task that wakes at the earliest deadline.
///
/// A task per armed timer (sleeping in `clock.sleep`) costs its allocation and async
/// frames, about 3 KB: with 100,000 VIPs between announcement rounds, or with the periodic
/// refresh on (a timer per VIP, always), that was hundreds of MB. Here an armed timer is
/// one heap entry (40 bytes) and a fire is a short task that delivers it. Entries name
/// their VIP by address and find its actor in the directory when they fire: a weak
/// reference would give every VIP actor a side table (32 bytes) for good.
///
/// A fire carries the token ``schedule(_:for:)`` returned; the VIP drops fires whose
/// token it no longer holds, as before (tokens are unique engine-wide, so a fire never
/// matches a later actor of the same address). Cancelled timers are not fired at all.
final class VIPTimerScheduler: Sendable {
    private struct Entry: Comparable {
        var deadline: Instant
        /// Unique and increasing: equal deadlines fire in the order they were armed.
        var token: UInt64
        var id: VIPTimerID
        var vip: IPv4Address

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
        /// The sleeping task, its generation (a replaced sleeper stops) and its deadline.
        var sleeper: Task<Void, Never>?
        var generation: UInt64 = 0
        var sleepingUntil: Instant?
        var stopped = false
    }

    private let clock: any EngineClock
    private let directory: ActorDirectory
    private let state = Mutex(State())

    /// Creates a scheduler on `clock` for the VIPs of `directory`.
    init(clock: any EngineClock, directory: ActorDirectory) {
        self.clock = clock
        self.directory = directory
    }

    /// Arms `timer` for `vip`: at its deadline, its actor's `timerFired(timer.id, token:)`.
    /// Returns the token the fire carries.
    func schedule(_ timer: ScheduledTimer, for vip: IPv4Address) -> UInt64 {
        state.withLock { state in
            state.nextToken += 1
            let token = state.nextToken
            guard !state.stopped else { return token }
            state.heap.insert(Entry(deadline: timer.deadline, token: token, id: timer.id, vip: vip))
            state.armed.insert(token)
            if let sleepingUntil = state.sleepingUntil, sleepingUntil <= timer.deadline { return token }
            // Nobody sleeps, or only until later: a new sleeper for this earlier deadline.
            state.sleeper?.cancel()
            state.generation += 1
            state.sleepingUntil = timer.deadline
            let generation = state.generation
            state.sleeper = Task { await self.run(generation: generation, until: timer.deadline) }
            return token
        }
    }

    /// Cancels the timer `token` (unknown or fired tokens are ignored).
    func cancel(_ token: UInt64) {
        _ = state.withLock { $0.armed.remove(token) }
    }

    /// Forgets every timer and stops the sleeping task: the engine stopped.
    func stop() {
        let sleeper = state.withLock { state -> Task<Void, Never>? in
            state.stopped = true
            state.heap = MinHeap()
            state.armed = []
            state.sleepingUntil = nil
            defer { state.sleeper = nil }
            return state.sleeper
        }
        sleeper?.cancel()
    }

    /// The sleeper: sleeps until `deadline`, fires what is due, and goes on to the next
    /// deadline until none is left or a newer sleeper replaced it.
    private func run(generation: UInt64, until deadline: Instant) async {
        var deadline = deadline
        while true {
            do { try await clock.sleep(until: deadline) } catch { return }  // replaced or stopped
            let now = clock.now()
            let (due, next) = state.withLock { state -> ([Entry], Instant?) in
                guard state.generation == generation else { return ([], nil) }
                var due: [Entry] = []
                while let first = state.heap.first, first.deadline <= now {
                    let entry = state.heap.popFirst()!
                    if state.armed.remove(entry.token) != nil { due.append(entry) }
                }
                state.sleepingUntil = state.heap.first?.deadline
                if state.sleepingUntil == nil {
                    state.sleeper = nil
                    state.armed = []  // give the storage back once drained
                }
                return (due, state.sleepingUntil)
            }
            for entry in due {
                guard let target = directory.vip(entry.vip) else { continue }
                Task { await target.timerFired(entry.id, token: entry.token) }
            }
            guard let next else { return }
            deadline = next
        }
    }
}
