import ProxyARPCore

// Health of one managed adapter: may it be a proxy agent right now?
//
// Transition table:
//
//   down      + linkChanged(up, carrier), no recent failure -> eligible  / becameEligible
//   down      + linkChanged(up, carrier), recent failures   -> holdDown  / holdDown(timer)
//   down      + linkChanged(otherwise)                      -> down      / none
//   eligible  + linkChanged(not up or no carrier)           -> down      / becameIneligible(adminDown|noCarrier)
//   eligible  + announcementsUnconfirmed                    -> holdDown  / holdDown(timer, ineligible)
//   eligible  + transmitFailed (threshold reached)          -> holdDown  / holdDown(timer, ineligible)
//   holdDown  + linkChanged(not up or no carrier)           -> down      / none  (another failure counted)
//   holdDown  + announcementsUnconfirmed, last resort       -> holdDown  / holdDown(timer), cause unconfirmed
//                                                              (another failure counted; no longer a last resort)
//   holdDown  + holdDownExpired(current epoch)              -> eligible  / becameEligible
//   any       + linkRemoved                                 -> removed   / becameIneligible(removed) if it was eligible
//                                                              (a failure counted)
//   removed   + linkChanged(up, carrier)                    -> holdDown  / holdDown(timer), cause removed: always,
//                                                              a re-created adapter is set up again first
//   removed   + linkChanged(otherwise)                      -> down(afterRemoval) / none; its first link up then
//                                                              holds down as from removed
//
// Flap damping: every failure is remembered for `flapWindow`; the hold-down is
// `holdDown * 2^(failures in window - 1)`, at most `holdDown * maxHoldDownFactor`.
// A link that bounces therefore waits longer each time, and sticky selection keeps VIPs
// where they are.
//
// Last resort: damping must not turn flapping links into a total outage. An adapter held
// down only because its link went down (carrier or admin) and whose link is up again is a
// *last resort* (`lastResortUntil`): the selector gives it VIPs that no eligible adapter can
// take. A hold-down for transmit errors, unconfirmed announcements or a re-creation is not:
// those say the adapter itself is unfit. Announcements unconfirmed through a last resort end
// that (a new hold-down, cause `unconfirmedAnnouncements`).
//
// Invalid events:
//   * Untrusted input (link reports, transmit results, unconfirmed reports that arrive
//     after the adapter already failed) is never an error: `.none`.
//   * A stale hold-down timer (earlier epoch, or the link went down meanwhile, or its
//     hold-down was interrupted and the link came back eligible by itself) is `.none`.
//   * A bug (a current-epoch hold-down timer firing while `eligible` when no such timer
//     is armed: never armed, or fired already) moves to `failed`, asserts in debug, and throws.

/// Health of one managed adapter. A pure value.
public struct AdapterHealthStateMachine: Sendable, Equatable {
    /// The adapter's health.
    public enum State: Sendable, Equatable {
        /// Not usable: admin down, no carrier, or not reported yet.
        case down(Down)
        /// Usable but waiting out a hold-down after a failure.
        case holdDown(HoldDown)
        /// Usable as a proxy agent.
        case eligible(Eligible)
        /// The interface is gone.
        case removed(Removed)
        /// Isolated after a bug in our own code.
        case failed(Failed)
    }

    /// Payload of `down`.
    public struct Down: Sendable, Equatable {
        /// Why it is down.
        public var reason: IneligibleReason
        /// Since when.
        public var since: Instant
        /// The adapter was removed and re-created and its link has not been up since: the
        /// next link up holds down whatever the recent failures.
        public var afterRemoval = false
    }

    /// Payload of `holdDown`.
    public struct HoldDown: Sendable, Equatable {
        /// What failed last.
        public var cause: IneligibleReason
        /// When the adapter becomes eligible again.
        public var until: Instant
        /// The timer's epoch.
        public var epoch: UInt64
        /// Whether the link is currently up with carrier (it may have failed for other reasons).
        public var linkUp: Bool
    }

    /// Payload of `eligible`.
    public struct Eligible: Sendable, Equatable {
        /// Since when.
        public var since: Instant
        /// Consecutive transmit errors.
        public var transmitErrors: Int
    }

    /// Payload of `removed`.
    public struct Removed: Sendable, Equatable {
        /// Since when.
        public var since: Instant
    }

    /// Payload of `failed`.
    public struct Failed: Sendable, Equatable {
        /// What went wrong.
        public var error: UnreachableTransition
    }

    /// A hold-down timer to arm.
    public struct HoldDownTimer: Sendable, Equatable, Codable {
        /// The attempt it belongs to.
        public var epoch: UInt64
        /// When it fires.
        public var deadline: Instant
    }

    /// What the adapter actor must do. Exactly one per event.
    public enum Action: Sendable, Equatable, CustomStringConvertible {
        /// Nothing.
        case none
        /// Tell the selector the adapter can take VIPs.
        case becameEligible
        /// Tell the selector the adapter lost eligibility: move its VIPs now.
        case becameIneligible(IneligibleReason)
        /// Arm the hold-down timer; if `ineligible` is set, the adapter just lost
        /// eligibility and its VIPs must move now.
        case holdDown(HoldDownTimer, ineligible: IneligibleReason?)

        /// Text used by the trace.
        public var description: String {
            switch self {
            case .none: "none"
            case .becameEligible: "becameEligible"
            case .becameIneligible(let reason): "becameIneligible(\(reason.rawValue))"
            case .holdDown(let timer, let reason):
                "holdDown(#\(timer.epoch) until \(timer.deadline.nanoseconds)\(reason.map { ", ineligible \($0.rawValue)" } ?? ""))"
            }
        }
    }

    /// The adapter.
    public let adapter: AdapterName
    /// Its settings.
    public let settings: AdapterHealthSettings
    /// The current state.
    public internal(set) var state: State
    /// Failures remembered for flap damping, oldest first.
    public internal(set) var recentFailures: [Instant] = []
    /// Epoch of the last hold-down timer armed.
    public internal(set) var holdDownEpoch: UInt64 = 0
    /// True from arming the hold-down timer of `holdDownEpoch` until it fires: the timer is
    /// never cancelled, so it may still fire after an interrupted hold-down.
    public internal(set) var holdDownTimerArmed = false
    /// Whether a bug-class event also trips `assertionFailure` (debug builds); ``TraceReplay``
    /// turns it off so that replaying a recorded bug reports it instead of crashing.
    public var assertsOnUnreachable = true

    /// Creates a machine in `down(unknown)`.
    public init(adapter: AdapterName, settings: AdapterHealthSettings, now: Instant) {
        self.adapter = adapter
        self.settings = settings
        self.state = .down(Down(reason: .unknown, since: now))
    }

    /// True when the adapter may be a proxy agent.
    public var isEligible: Bool {
        if case .eligible = state { return true }
        return false
    }

    /// True while the adapter's link is up with carrier and the adapter is eligible or only
    /// held down (after unconfirmed announcements, transmit errors or a flap: a hold-down
    /// ends by itself). False when it is down (admin or carrier), removed, not reported yet,
    /// or isolated after a bug. Cluster mode keeps its units while any adapter has a usable
    /// link: a hold-down is the host's own business (its VIPs wait or use a last resort),
    /// not a reason to hand every unit to another host.
    public var hasUsableLink: Bool {
        switch state {
        case .eligible: true
        case .holdDown(let holdDown): holdDown.linkUp
        case .down, .removed, .failed: false
        }
    }

    /// When the adapter is a *last resort*, the end of its hold-down; nil otherwise. A last
    /// resort is held down only by flap damping: its hold-down followed its link going down
    /// (no carrier, or admin down) and the link is up again, so nothing but the damping keeps
    /// it from serving. The selector gives such an adapter the VIPs no eligible adapter can
    /// take, rather than leave them without an agent (a host whose links all flap would
    /// otherwise answer for nothing while every link has carrier).
    public var lastResortUntil: Instant? {
        guard case .holdDown(let holdDown) = state, holdDown.linkUp else { return nil }
        switch holdDown.cause {
        case .noCarrier, .adminDown: return holdDown.until
        case .unknown, .transmitErrors, .unconfirmedAnnouncements, .holdDown, .removed, .failed: return nil
        }
    }

    /// The reason it is not eligible, or nil when it is.
    public var ineligibleReason: IneligibleReason? {
        switch state {
        case .eligible: nil
        case .down(let s): s.reason
        case .holdDown: .holdDown
        case .removed: .removed
        case .failed: .failed
        }
    }
}
