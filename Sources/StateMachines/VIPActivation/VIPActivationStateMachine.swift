import ProxyARPCore

// The activation of one VIP on one proxy agent (ARCHITECTURE.md §1, steps 1-8).
//
// The selector decides which agent a VIP gets, and when (it also paces how many VIPs
// announce at once): its decisions arrive as events numbered in the order it made them
// (`decision`). A decision older than the last one this machine took is stale: it was
// overtaken in flight, and is ignored in every state.
//
// Transition table (state + event -> new state / action):
//
//   pending    + agentSelected(a)            -> broadcast(a, epoch+1) / announce round 1 (no timer yet)
//   pending    + agentLost(x) | noAgent      -> pending(reason)       / none
//   broadcast  + announcementSeen(sibling)   -> enqueued              / publish(a), cancel confirm
//   broadcast  + announcementSeen(own copy)  -> enqueued if a.confirmation == .transmit, else stays (noted)
//   broadcast  + announcementTransmitted     -> enqueued if a.confirmation == .transmit / publish(a);
//                                               else broadcast (last sent now) / arm confirm from now
//   broadcast  + announcementNotSent         -> broadcast             / arm confirm from now
//   broadcast  + confirmTimerFired, retry    -> broadcast(retx+1)     / announce round 1 again (no timer yet)
//   broadcast  + confirmTimerFired, last     -> pending(unconfirmed)  / requestAgent(excluding a, a unusable)
//   enqueued   + outboundPathBound(a)        -> active                / activated(arm announce: round 2 or refresh)
//   active     + announceTimerFired          -> active                / announce round k, arm next
//   active     + announcementSeen            -> active (counted)      / none
//   broadcast|enqueued|active + agentSelected(b != a) -> broadcast(b) / move: announce round 1 via b (no timer yet)
//   broadcast|enqueued|active + agentLost(x) -> pending(agent x lost) / cancel timers (the selector already
//                                               withdrew the VIP from x's proxy list and queued it)
//   broadcast|enqueued|active + noAgent      -> pending(no eligible)  / cancel timers
//   pending    + outboundPathBound(a)        -> pending(bound a)      / none (make-before-break keeps it)
//   broadcast|enqueued|active + agentAddressChanged(a) -> same state, a's new local address recorded / none
//   any other  + agentAddressChanged         -> unchanged             / none (the VIP left that agent meanwhile)
//   any live   + withdraw                    -> withdrawn             / release everything held
//   withdrawn  + outboundPathBound(a)        -> withdrawn             / release(unbind a): a bind that finished
//                                               after the release is undone
//   withdrawn  + anything else               -> withdrawn             / none
//   failed     + anything                    -> failed                / none
//   any        + a decision not newer than the last taken -> unchanged / none (overtaken in flight)
//
// The confirmation window of a round opens when the round has left the host (the actor
// reports announcementTransmitted, or announcementNotSent when the send failed), not when it
// was decided: behind a deep send queue (a burst of thousands of announcements on a loaded
// host) the frames leave long after the decision, and no sibling can hear them before. Timed
// from the decision, every VIP of such a burst ran out of retries while its frames were still
// queued, and each of its agents was reported cut off (held down) although it was heard.
//
// Invalid events, sorted three ways:
//   * Untrusted network input (announcementSeen from a MAC that is not the agent's, in any
//     state; a confirmation after the VIP moved on) is never an error: `.none`, and the
//     trace shows it.
//   * Stale completions of our own asynchronous work (a timer of an earlier epoch, a path
//     bound for an agent the VIP already left, a selector decision overtaken by a newer
//     one) are expected under concurrency: `.none`.
//   * A bug in our own code (a timer of the *current* epoch that was cancelled, a path
//     bound twice, the selector choosing the agent the VIP already has) moves the machine
//     to `failed(.unreachable)`, asserts in debug builds, and throws
//     `UnreachableTransition`: this one VIP is isolated, the daemon lives.
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
        /// Yielded to another host that claims the VIP (policy `yield`); holds nothing
        /// and answers nothing until the claims stop.
        case conflict(Conflicted)
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
        /// Whether the latest round-1 send was reported to have left (`lastSentAt` is then
        /// its departure). A sibling may hear the round before the actor reports it left;
        /// the confirmation then takes its own time as the last send, so round 2 keeps its
        /// spacing from when round 1 really went out.
        public var roundLeft = false
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
        /// The VIP stays a local address (`remove_vips_on_exit: false` at shutdown).
        public var keepsLocalAddress: Bool
    }

    /// Payload of `failed`.
    public struct Failed: Sendable, Equatable {
        /// What went wrong.
        public var error: UnreachableTransition
    }

    /// What the actor must do after an event. Exactly one per event; the actor's `run`
    /// is a flat switch over these.
    public enum Action: Sendable, Equatable, CustomStringConvertible {
        /// Nothing.
        case none
        /// Send a round of gratuitous ARPs (both forms); arm `timer` if given.
        case announce(Announcement, timer: ScheduledTimer?)
        /// Cancel `cancel`, then announce through the new agent; its confirmation timer is
        /// armed once the round left. (The selector already took the VIP off the old
        /// agent's proxy list.)
        case move(Announcement, cancel: [VIPTimerKind])
        /// Publish on the agent's proxy list, make the VIP local, bind its outbound path.
        case publish(Publication)
        /// The VIP answers and its outbound path is bound: report it, arm `timer` if given.
        case activated(Activation)
        /// The agent's announcements were never confirmed: report it unusable and ask the
        /// selector for another agent.
        case requestAgent(Reselection)
        /// The VIP lost its agent and the selector will decide later: stop its timers.
        case cancelTimers([VIPTimerKind])
        /// Give everything back: leave the selector, unbind, leave `lo`, cancel timers.
        case release(Release)
        /// Arm a timer.
        case schedule(ScheduledTimer)
        /// Another host claims the VIP: count it, and defend, report or yield.
        case conflict(ConflictResponse)
        /// The VIP is no longer contested.
        case conflictCleared
        /// The yielded VIP heard no claim for `retryAfter`: ask the selector for an agent.
        case rejoin

        /// Text used by the trace; two actions are the same exactly when their texts are.
        public var description: String {
            switch self {
            case .none:
                return "none"
            case .announce(let a, let timer):
                return "announce(\(a.agent.name) \(a.agent.mac) round \(a.round) retx \(a.retransmission) epoch \(a.epoch)\(Self.text(timer)))"
            case .move(let a, let cancel):
                return "move(to \(a.agent.name) \(a.agent.mac) epoch \(a.epoch) cancel \(Self.text(cancel)))"
            case .publish(let p):
                return "publish(\(p.agent.name) \(p.agent.mac) local \(p.agent.localAddress?.description ?? "-") replacing \(p.replacing?.rawValue ?? "-") addLocal \(p.addsLocalAddress) cancel \(p.cancel.kind.rawValue)#\(p.cancel.epoch))"
            case .activated(let a):
                return "activated(\(a.agent.name) previous \(a.previous?.rawValue ?? "-") failover \(a.isFailover) took \(a.took.nanosecondsClamped)ns\(Self.text(a.timer)))"
            case .requestAgent(let r):
                return "requestAgent(excluding \(r.unusable) since \(r.attemptStartedAt.nanoseconds))"
            case .cancelTimers(let kinds):
                return "cancelTimers(\(Self.text(kinds)))"
            case .release(let r):
                return "release(unbind \(r.unbind?.rawValue ?? "-") removeLocal \(r.removesLocalAddress) cancel \(Self.text(r.cancel)))"
            case .schedule(let timer):
                return "schedule(\(Self.text(timer).dropFirst(2)))"
            case .conflict(let c):
                let defend = c.defend.map { "defend via \($0.agent.name)" } ?? "no defence"
                let yield = c.yield.map { " yield(unbind \($0.unbind?.rawValue ?? "-") removeLocal \($0.removesLocalAddress))" } ?? ""
                let log = c.logSuppressed.map { " log(suppressed \($0))" } ?? ""
                return "conflict(claimed by \(c.claimedBy) \(defend) contested \(c.contested)\(log)\(Self.text(c.timer))\(yield))"
            case .conflictCleared:
                return "conflictCleared"
            case .rejoin:
                return "rejoin"
            }
        }

        private static func text(_ timer: ScheduledTimer?) -> String {
            guard let timer else { return "" }
            return ", \(timer.id.kind.rawValue)#\(timer.id.epoch) at \(timer.deadline.nanoseconds)"
        }

        private static func text(_ kinds: [VIPTimerKind]) -> String {
            kinds.isEmpty ? "-" : kinds.map(\.rawValue).joined(separator: ",")
        }
    }

    /// The VIP this machine activates.
    public let vip: IPAddress
    /// Its timers.
    public var settings: VIPActivationSettings { sharedSettings.value }
    /// The timers, shared with the other machines started with them.
    private let sharedSettings: SharedVIPActivationSettings
    /// The current state.
    public internal(set) var state: State
    /// The number of the newest selector decision taken; older ones are stale.
    public internal(set) var lastDecision: UInt64 = 0
    /// Whether a publish made the VIP a local address that no release has removed yet.
    public internal(set) var isLocalAddress = false
    /// Foreign claims for the VIP: last defence, contest, log rate limit. Held in a record
    /// that exists only once a claim was seen: inline, it cost about 90 bytes in every
    /// VIP's machine (9 MB at 100,000 VIPs) for what most VIPs never meet.
    public internal(set) var conflicts: ConflictWatch {
        get { conflictRecord?.watch ?? ConflictWatch() }
        set { conflictRecord = newValue == ConflictWatch() ? nil : ConflictRecord(newValue) }
    }
    private var conflictRecord: ConflictRecord?
    /// When the machine was created: the start of the first activation's clock.
    public let createdAt: Instant
    /// Whether a bug-class event also trips `assertionFailure` (debug builds). True in the
    /// daemon; ``TraceReplay`` turns it off, because replaying a trace that recorded a bug
    /// (or an edited trace) must report the `unreachable` action, not crash the replayer.
    public var assertsOnUnreachable = true

    /// Creates a machine in `pending(awaitingSelection)`.
    public init(vip: IPAddress, settings: VIPActivationSettings, now: Instant) {
        self.init(vip: vip, sharing: SharedVIPActivationSettings(settings), now: now)
    }

    /// Creates a machine in `pending(awaitingSelection)` whose settings are `settings`,
    /// shared with every other machine made with the same object (no copy per VIP).
    public init(vip: IPAddress, sharing settings: SharedVIPActivationSettings, now: Instant) {
        self.vip = vip
        self.sharedSettings = settings
        self.createdAt = now
        self.state = .pending(
            Pending(reason: .awaitingSelection, epoch: 0, boundAgent: nil, since: now, failoverStartedAt: nil)
        )
    }
}
