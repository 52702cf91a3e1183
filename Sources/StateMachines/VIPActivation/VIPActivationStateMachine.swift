import ProxyARPCore

// The activation of one VIP on one proxy agent (ARCHITECTURE.md §1, steps 1-8).
//
// Transition table (state + event -> new state / action):
//
//   pending    + agentSelected(a)            -> broadcast(a, epoch+1) / announce round 1, arm confirm
//   pending    + noAgentAvailable(r)         -> pending(r)            / none
//   broadcast  + announcementSeen(sibling)   -> enqueued              / publish(a), cancel confirm
//   broadcast  + announcementSeen(own copy)  -> enqueued if a.confirmation == .transmit, else stays (noted)
//   broadcast  + announcementTransmitted     -> enqueued if a.confirmation == .transmit / publish(a)
//   broadcast  + confirmTimerFired, retry    -> broadcast(retx+1)     / announce round 1 again, arm confirm
//   broadcast  + confirmTimerFired, last     -> pending(unconfirmed)  / reselect, report a unusable
//   enqueued   + outboundPathBound(a)        -> active                / arm announce (round 2 or refresh)
//   active     + announceTimerFired          -> active                / announce round k, arm next
//   active     + announcementSeen            -> active (counted)      / none
//   broadcast|enqueued|active + agentLost    -> pending(lost)         / withdraw from proxy list, reselect
//   broadcast|enqueued|active + agentSelected(b != a) -> broadcast(b) / move: withdraw, announce round 1
//   any live   + withdraw                    -> withdrawn             / release everything held
//   withdrawn  + anything                    -> withdrawn             / none
//   failed     + anything                    -> failed                / none
//
// Invalid events, sorted three ways:
//   * Untrusted network input (announcementSeen from a MAC that is not the agent's, in any
//     state; a confirmation after the VIP moved on) is never an error: `.none`, and the
//     trace shows it.
//   * Stale completions of our own asynchronous work (a timer of an earlier epoch, a path
//     bound for an agent the VIP already left) are expected under concurrency: `.none`.
//   * A bug in our own code (a timer of the *current* epoch that was cancelled, a path
//     bound twice, the selector choosing the agent the VIP already has, "no agent" told to
//     a VIP that has one) moves the machine to `failed(.unreachable)`, asserts in debug
//     builds, and throws `UnreachableTransition`: this one VIP is isolated, the daemon lives.
//   * Configuration or CLI misuse never reaches the machine: the actors' APIs refuse it
//     with typed errors.

/// The activation state machine of one VIP: `pending → broadcast → enqueued → active`,
/// plus `withdrawn` and `failed`. A pure value; time enters as `now:` arguments and
/// timers leave as actions.
public struct VIPActivationStateMachine: Sendable, Equatable {
    /// The VIP's lifecycle state. Each payload is built from the previous one.
    public enum State: Sendable, Equatable {
        /// Waiting for an agent, with the reason.
        case pending(Pending)
        /// Gratuitous ARPs sent through the agent; waiting to see them on the wire.
        case broadcast(Broadcast)
        /// Confirmed and published on the agent's proxy list; binding the outbound path.
        case enqueued(Enqueued)
        /// Answering through the agent, outbound path bound.
        case active(Active)
        /// Removed by configuration; holds nothing.
        case withdrawn(Withdrawn)
        /// Isolated after a bug in our own code.
        case failed(Failed)
    }

    /// Payload of `pending`.
    public struct Pending: Sendable, Equatable {
        /// Why the VIP waits.
        public var reason: PendingReason
        /// The last attempt number used; the next attempt is `epoch + 1`.
        public var epoch: UInt64
        /// The agent whose outbound path is still bound (make-before-break), if any.
        public var boundAgent: AdapterName?
        /// When the VIP started waiting.
        public var since: Instant
        /// When the VIP lost its last agent, for failover timing; nil on first activation.
        public var failoverStartedAt: Instant?
    }

    /// Payload of `broadcast`.
    public struct Broadcast: Sendable, Equatable {
        /// The agent announcing.
        public var agent: Agent
        /// This attempt.
        public var epoch: UInt64
        /// Retransmissions of round 1 so far.
        public var retransmissions: Int
        /// When round 1 was first sent.
        public var firstSentAt: Instant
        /// When round 1 was last sent (its latest retransmission): round 2 is spaced from here.
        public var lastSentAt: Instant
        /// The agent whose outbound path is still bound, if any.
        public var boundAgent: AdapterName?
        /// Carried from `pending` for failover timing.
        public var failoverStartedAt: Instant?
        /// Outbound copies seen that do not count under a `.sibling` policy.
        public var ignoredOwnCopies: Int
    }

    /// Payload of `enqueued`.
    public struct Enqueued: Sendable, Equatable {
        /// The agent, now answering for the VIP.
        public var agent: Agent
        /// This attempt.
        public var epoch: UInt64
        /// How the first round was confirmed.
        public var confirmation: Confirmation
        /// When round 1 was first sent.
        public var firstSentAt: Instant
        /// When round 1 was last sent (its latest retransmission).
        public var lastSentAt: Instant
        /// When the confirmation arrived.
        public var confirmedAt: Instant
        /// The agent whose outbound path is still bound, if any (replaced on activation).
        public var boundAgent: AdapterName?
        /// Carried for failover timing.
        public var failoverStartedAt: Instant?
    }

    /// Payload of `active`.
    public struct Active: Sendable, Equatable {
        /// The agent.
        public var agent: Agent
        /// This attempt.
        public var epoch: UInt64
        /// How round 1 was confirmed.
        public var confirmation: Confirmation
        /// When the VIP became active.
        public var since: Instant
        /// Rounds sent so far (1 after activation).
        public var roundsSent: Int
        /// Announcements of ours seen on the wire for this agent.
        public var announcementsConfirmed: Int
        /// When the last round was sent (the next is due an interval later).
        public var lastSentAt: Instant
    }

    /// Payload of `withdrawn`.
    public struct Withdrawn: Sendable, Equatable {
        /// When the VIP was withdrawn.
        public var since: Instant
    }

    /// Payload of `failed`.
    public struct Failed: Sendable, Equatable {
        /// What went wrong.
        public var error: UnreachableTransition
    }

    /// What the actor must do after an event. Exactly one per event.
    public enum Action: Sendable, Equatable, CustomStringConvertible {
        /// Nothing.
        case none
        /// Send a round of gratuitous ARPs (both forms); arm `timer` if given.
        case announce(Announcement, timer: ScheduledTimer?)
        /// Withdraw the VIP from `withdrawFrom`'s proxy list at once, then announce
        /// through the new agent and arm the confirmation timer.
        case move(withdrawFrom: AdapterName?, announcement: Announcement, timer: ScheduledTimer)
        /// Publish the VIP on the agent's proxy list, record its local address and bind the
        /// outbound path to it (replacing `replacing`); cancel `cancel`. Then report
        /// `outboundPathBound`.
        case publish(Agent, replacing: AdapterName?, cancel: VIPTimerID)
        /// Arm a timer.
        case schedule(ScheduledTimer)
        /// Withdraw from `withdrawFrom`'s proxy list at once (if any), cancel timers, and
        /// ask the selector for a new agent. `unusable` names an agent whose announcements
        /// were never confirmed, for its health machine.
        case reselect(withdrawFrom: AdapterName?, unusable: AdapterName?, cancel: [VIPTimerKind])
        /// Give everything back: withdraw from the proxy list, unbind the outbound path,
        /// remove the VIP from `lo`, cancel timers.
        case release(withdrawFrom: AdapterName?, unbind: AdapterName?, cancel: [VIPTimerKind])

        /// Text used by the trace; two actions are the same exactly when their texts are.
        public var description: String {
            switch self {
            case .none:
                return "none"
            case .announce(let a, let timer):
                return "announce(\(a.agent.name) \(a.agent.mac) round \(a.round) retx \(a.retransmission) epoch \(a.epoch)\(Self.text(timer)))"
            case .move(let from, let a, let timer):
                return "move(from \(from?.rawValue ?? "-") to \(a.agent.name) \(a.agent.mac) epoch \(a.epoch)\(Self.text(timer)))"
            case .publish(let agent, let replacing, let cancel):
                return "publish(\(agent.name) \(agent.mac) local \(agent.localAddress?.description ?? "-") replacing \(replacing?.rawValue ?? "-") cancel \(cancel.kind.rawValue)#\(cancel.epoch))"
            case .schedule(let timer):
                return "schedule(\(Self.text(timer).dropFirst(2)))"
            case .reselect(let from, let unusable, let cancel):
                return "reselect(withdraw \(from?.rawValue ?? "-") unusable \(unusable?.rawValue ?? "-") cancel \(cancel.map(\.rawValue).joined(separator: ",")))"
            case .release(let from, let unbind, let cancel):
                return "release(withdraw \(from?.rawValue ?? "-") unbind \(unbind?.rawValue ?? "-") cancel \(cancel.map(\.rawValue).joined(separator: ",")))"
            }
        }

        private static func text(_ timer: ScheduledTimer?) -> String {
            guard let timer else { return "" }
            return ", \(timer.id.kind.rawValue)#\(timer.id.epoch) at \(timer.deadline.nanoseconds)"
        }
    }

    /// The VIP this machine activates.
    public let vip: IPv4Address
    /// Its timers.
    public var settings: VIPActivationSettings { sharedSettings.value }
    /// The timers, shared with the other machines started with them.
    private let sharedSettings: SharedVIPActivationSettings
    /// The current state.
    public internal(set) var state: State
    /// Whether a bug-class event also trips `assertionFailure` (debug builds). True in the
    /// daemon; ``TraceReplay`` turns it off, because replaying a trace that recorded a bug
    /// (or an edited trace) must report the `unreachable` action, not crash the replayer.
    public var assertsOnUnreachable = true

    /// Creates a machine in `pending(awaitingSelection)`.
    public init(vip: IPv4Address, settings: VIPActivationSettings, now: Instant) {
        self.init(vip: vip, sharing: SharedVIPActivationSettings(settings), now: now)
    }

    /// Creates a machine in `pending(awaitingSelection)` whose settings are `settings`,
    /// shared with every other machine made with the same object (no copy per VIP).
    public init(vip: IPv4Address, sharing settings: SharedVIPActivationSettings, now: Instant) {
        self.vip = vip
        self.sharedSettings = settings
        self.state = .pending(
            Pending(reason: .awaitingSelection, epoch: 0, boundAgent: nil, since: now, failoverStartedAt: nil)
        )
    }
}
