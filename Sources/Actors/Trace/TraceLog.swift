import ProxyARPCore
import ProxyARPStateMachines
import Synchronization

/// The daemon's state trace: a bounded ring of ``MachineTraceRecord``s shared by all
/// actors. A mutex, not an actor, so recording a transition costs no hop.
public final class TraceLog: Sendable {
    private struct Storage {
        var ring: TraceRing<MachineTraceRecord>
        var nextSequence: UInt64 = 1
        /// States and actions repeat across VIPs: the ring keeps one copy of each text.
        var texts = StringInterner()
    }

    private let storage: Mutex<Storage>
    private let clock: any EngineClock

    /// Creates a trace keeping at most `capacity` records.
    public init(capacity: Int, clock: any EngineClock) {
        self.storage = Mutex(Storage(ring: TraceRing(capacity: capacity)))
        self.clock = clock
    }

    /// Appends one transition.
    public func record(
        _ subject: TraceSubject, event: MachineEvent, at now: Instant, from: String, to: String, action: String
    ) {
        let wall = clock.wallNanoseconds()
        storage.withLock { storage in
            storage.ring.append(
                MachineTraceRecord(
                    sequence: storage.nextSequence, monotonic: now, wallNanoseconds: wall, subject: subject,
                    event: event, from: storage.texts.intern(from), to: storage.texts.intern(to),
                    action: storage.texts.intern(action)
                )
            )
            storage.nextSequence += 1
        }
    }

    /// The records held, oldest first.
    public var records: [MachineTraceRecord] { storage.withLock { $0.ring.elements } }

    /// Up to `limit` records with a sequence number greater than `sequence`, oldest first,
    /// and the highest sequence number recorded so far (0 before the first record).
    ///
    /// Sequence numbers are contiguous in the ring, so the first wanted record's position
    /// is computed, not searched: the lock is held for at most `limit` copies. Records
    /// already dropped from the ring are skipped. `proxyarpd trace --follow` polls this.
    public func records(after sequence: UInt64, limit: Int = 4096) -> (records: [MachineTraceRecord], latest: UInt64) {
        storage.withLock { storage in
            let latest = storage.nextSequence - 1
            guard sequence < latest else { return ([], latest) }
            let oldest = latest - UInt64(storage.ring.count) + 1
            let first = max(sequence + 1, oldest)
            return (storage.ring.elements(from: Int(first - oldest), limit: limit), latest)
        }
    }

    /// Records dropped because the ring was full.
    public var dropped: UInt64 { storage.withLock { $0.ring.dropped } }
}
