import CCap
import Glibc
import Synchronization

/// What `proxyarpd run` does to itself before it starts any thread, whether systemd
/// started it or not: `PR_SET_NO_NEW_PRIVS` (no exec can ever gain privileges) and a
/// capability bounding set of CAP_NET_RAW and CAP_NET_ADMIN only (libcap
/// `cap_drop_bound`).
///
/// Why at the very start and not after setup: both are per-thread attributes on Linux
/// that new threads inherit, and nothing (short of libcap's psx) changes them in threads
/// that already run. Done while the process is still one thread, every later thread
/// shows `NoNewPrivs: 1` and `CapBnd: 0000000000003000`. It does not get in the way of
/// setup or of the privilege drop: the bounding set limits what an `execve` may grant,
/// not the capabilities the process already holds, so root keeps CAP_SETUID, CAP_SETGID and
/// CAP_CHOWN in its permitted set until ``PrivilegeDrop`` gives them up with the uid change.
///
/// Dropping from the bounding set needs CAP_SETPCAP. Under systemd the unit's
/// `CapabilityBoundingSet=` already bounds the process (it lists CAP_SETPCAP so the daemon
/// can cut its own set further); started by a user without CAP_SETPCAP the set is left as
/// it is and ``Outcome`` says so.
public enum ProcessHardening {
    /// What was done.
    public struct Outcome: Sendable, Equatable {
        /// `PR_SET_NO_NEW_PRIVS` is set.
        public var noNewPrivileges: Bool
        /// The bounding set afterwards, as a mask of capability numbers.
        public var boundingSet: UInt64
        /// Capabilities that could not be dropped (no CAP_SETPCAP), by number.
        public var notDropped: [Int32]
    }

    /// The capabilities the bounding set keeps: CAP_NET_ADMIN (12), CAP_NET_RAW (13).
    public static let kept: Set<Int32> = Set(PrivilegePlan.Capability.allCases.map(\.rawValue))

    private static let applied = Mutex<Outcome?>(nil)

    /// Applies both; call once, on the main thread, before any other thread exists.
    @discardableResult
    public static func apply() -> Outcome {
        let noNewPrivileges = proxyarpd_prctl2(PR_SET_NO_NEW_PRIVS, 1) == 0
        var notDropped: [Int32] = []
        var bounding: UInt64 = 0
        let last = cap_max_bits()
        for value in 0..<last {
            guard cap_get_bound(value) == 1 else { continue }
            if !kept.contains(value), cap_drop_bound(value) != 0 { notDropped.append(value) }
            if cap_get_bound(value) == 1, value < 64 { bounding |= 1 << UInt64(value) }
        }
        let outcome = Outcome(noNewPrivileges: noNewPrivileges, boundingSet: bounding, notDropped: notDropped)
        applied.withLock { $0 = outcome }
        return outcome
    }

    /// What ``apply()`` did, if it ran (the daemon logs it once logging is set up).
    public static var outcome: Outcome? { applied.withLock { $0 } }
}
