import ProxyARPCore

/// An event of ``OwnershipStateMachine``, as a value: what the cluster coordinator feeds a
/// unit's machine, and what its trace records hold so that a dump replays.
public enum OwnershipEvent: Sendable, Hashable, Codable {
    /// ``OwnershipStateMachine/eligibilityChanged(eligible:rank:now:)``.
    case eligibilityChanged(eligible: Bool, rank: Int)
    /// ``OwnershipStateMachine/observed(_:now:)``: the store says who holds the key (nil: nobody).
    case observed(OwnershipHolder?)
    /// ``OwnershipStateMachine/claimTimerFired(epoch:now:)``.
    case claimTimerFired(epoch: UInt64)
    /// ``OwnershipStateMachine/claimSucceeded(_:now:)``.
    case claimSucceeded(FencingToken)
    /// ``OwnershipStateMachine/claimTaken(by:now:)``.
    case claimTaken(OwnershipHolder?)
    /// ``OwnershipStateMachine/claimFailed(now:)``.
    case claimFailed
    /// ``OwnershipStateMachine/releaseCompleted(now:)``.
    case releaseCompleted
    /// ``OwnershipStateMachine/fenceDeadlinePassed(now:)``.
    case fenceDeadlinePassed
    /// ``OwnershipStateMachine/leaseConfirmed(now:)``.
    case leaseConfirmed
    /// ``OwnershipStateMachine/leaseLost(now:)``.
    case leaseLost
    /// ``OwnershipStateMachine/handOver(now:)``.
    case handOver

    /// The event's name, for filters, tables and the timeline.
    public var name: String {
        switch self {
        case .eligibilityChanged: "eligibilityChanged"
        case .observed: "observed"
        case .claimTimerFired: "claimTimerFired"
        case .claimSucceeded: "claimSucceeded"
        case .claimTaken: "claimTaken"
        case .claimFailed: "claimFailed"
        case .releaseCompleted: "releaseCompleted"
        case .fenceDeadlinePassed: "fenceDeadlinePassed"
        case .leaseConfirmed: "leaseConfirmed"
        case .leaseLost: "leaseLost"
        case .handOver: "handOver"
        }
    }

    /// Largest rank a replay accepts (a cluster has a handful of hosts; a dump is untrusted).
    public static let maximumReplayRank = 4096

    /// False for values the daemon never produces and a replay must not feed a machine
    /// (a rank out of range would overflow the claim deadline).
    public var isReplayable: Bool {
        if case .eligibilityChanged(_, let rank) = self { return (0...Self.maximumReplayRank).contains(rank) }
        return true
    }
}

/// The first record of a unit's machine: the host it runs on and its claim timing.
public struct OwnershipCreation: Sendable, Hashable, Codable {
    /// This host's name (the owner the machine's `owned` states name).
    public var host: String
    /// The machine's claim timing.
    public var settings: OwnershipSettings

    /// Creates the record's payload.
    public init(host: String, settings: OwnershipSettings) {
        self.host = host
        self.settings = settings
    }

    /// False for settings the daemon never uses (a replay skips such a machine): each delay
    /// within 0...1 hour.
    public var isReplayable: Bool {
        let range = Duration.zero ... Duration.seconds(3600)
        return range.contains(settings.takeoverStep) && range.contains(settings.retryDelay)
    }
}

extension OwnershipStateMachine {
    /// Feeds `event` to the machine: the one entry the coordinator and a trace replay use.
    public mutating func handle(_ event: OwnershipEvent, now: Instant) throws(UnreachableTransition) -> OwnershipAction {
        switch event {
        case .eligibilityChanged(let eligible, let rank): eligibilityChanged(eligible: eligible, rank: rank, now: now)
        case .observed(let holder): observed(holder, now: now)
        case .claimTimerFired(let epoch): claimTimerFired(epoch: epoch, now: now)
        case .claimSucceeded(let token): try claimSucceeded(token, now: now)
        case .claimTaken(let holder): claimTaken(by: holder, now: now)
        case .claimFailed: claimFailed(now: now)
        case .releaseCompleted: try releaseCompleted(now: now)
        case .fenceDeadlinePassed: fenceDeadlinePassed(now: now)
        case .leaseConfirmed: leaseConfirmed(now: now)
        case .leaseLost: leaseLost(now: now)
        case .handOver: handOver(now: now)
        }
    }
}

extension OwnershipHolder: CustomStringConvertible {
    /// `lb2 token 7` (`, ours` when written with this host's lease).
    public var description: String { "\(host) token \(token)\(isOurs ? ", ours" : "")" }
}

extension OwnershipAction: CustomStringConvertible {
    /// `none`, or its effects joined by ` + `: `deactivate + release(5)`, `claim`,
    /// `activate(5)`, `claimTimer(epoch 2 at 1040000000)`.
    public var description: String {
        var parts: [String] = []
        switch engine {
        case .activate(let token)?: parts.append("activate(\(token))")
        case .deactivate?: parts.append("deactivate")
        case nil: break
        }
        switch store {
        case .claim?: parts.append("claim")
        case .release(let token)?: parts.append("release(\(token))")
        case nil: break
        }
        if let claimTimer { parts.append("claimTimer(epoch \(claimTimer.epoch) at \(claimTimer.deadline.nanoseconds))") }
        return parts.isEmpty ? "none" : parts.joined(separator: " + ")
    }
}

extension OwnershipStateMachine.State: CustomStringConvertible {
    /// The state with its key fields, as traces show it; the owner host comes first in every
    /// state that names one: `unowned(lb2 token 7)`, `unowned`, `waiting(until 1040000000 epoch 2)`,
    /// `claiming`, `owned(lb1 token 5)`, `fenced(lb1 token 5)`, `releasing(lb1 token 5)`,
    /// `failed(STATE on EVENT)`. `owned`, `fenced` and `releasing` name this host, given by
    /// ``OwnershipStateMachine/description``; here they say `self`.
    public var description: String { describe(host: "self") }

    func describe(host: String) -> String {
        switch self {
        case .unowned(let unowned): unowned.holder.map { "unowned(\($0.host) token \($0.token))" } ?? "unowned"
        case .waiting(let waiting): "waiting(until \(waiting.until.nanoseconds) epoch \(waiting.epoch))"
        case .claiming: "claiming"
        case .owned(let owned): "owned(\(host) token \(owned.token))"
        case .fenced(let owned): "fenced(\(host) token \(owned.token))"
        case .releasing(let owned): "releasing(\(host) token \(owned.token))"
        case .failed(let error): "failed(\(error.state) on \(error.event))"
        }
    }
}

extension OwnershipStateMachine: CustomStringConvertible {
    /// The state as traces record it, naming this machine's host in the states it owns.
    public var description: String { state.describe(host: host.isEmpty ? "self" : host) }
}

extension OwnershipStateMachine {
    /// True while a claim is waiting for its rank's turn or in flight: the unit's owner is
    /// not settled yet as far as this host knows.
    public var isClaimPending: Bool {
        switch state {
        case .waiting, .claiming: true
        default: false
        }
    }
}
