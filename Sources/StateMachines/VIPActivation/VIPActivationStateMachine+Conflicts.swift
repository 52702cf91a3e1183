import ProxyARPCore

// Foreign claims (RFC 5227 §2.4), whatever the activation state:
//
//   live + claimSeen(m), the same MAC within 50 ms of the last   -> unchanged / none (one frame heard
//                                                                    by several adapters is one claim)
//   broadcast|enqueued|active + claimSeen(m):
//     defend: no defence within defendInterval  -> defend (both forms via the agent)
//             else                               -> contested (keeps answering)
//     alarm:                                     -> contested (never defends, keeps answering)
//     yield:  no defence within defendInterval and not contested -> defend
//             else  -> conflict(m) / yield: give back proxy list, binding and lo; retry after retryAfter
//   pending + claimSeen(m)       -> contested (nothing to defend with)
//   conflict + claimSeen(m)      -> conflict, retry pushed to retryAfter after this claim
//   pending + probeLost          -> conflict(last claimant) / arm the retry (the probe before the
//                                   first activation was answered: never claimed)
//   conflictTimerFired: contest older than defendInterval -> cleared; conflict quiet for retryAfter
//                       -> pending(awaiting selection) / rejoin; otherwise the timer is armed again
//   withdrawn|failed + anything  -> none
//
// Every counted claim returns one `.conflict` action (one counter increment); the log
// line it carries is rate-limited to one per VIP per defendInterval, with the number of
// claims not logged since the last line.

extension VIPActivationStateMachine {
    /// Two sightings of the same claimant closer than this are one claim: the same frame
    /// heard by several adapters, each in its own capture batch.
    public static let sameClaimWindow: Duration = .milliseconds(50)

    /// Another host claims the VIP (untrusted network input: never an error).
    public mutating func claimSeen(by claimant: MACAddress, now: Instant) -> Action {
        switch state {
        case .withdrawn, .failed: return .none
        default: break
        }
        if conflicts.lastClaimBy == claimant, let last = conflicts.lastClaimAt,
            now.duration(since: last) < Self.sameClaimWindow
        {
            return .none
        }
        conflicts.lastClaimBy = claimant
        conflicts.lastClaimAt = now
        let policy = settings.conflicts
        let log = nextLogLine(now: now)

        let agent: Agent
        let epoch: UInt64
        let bound: AdapterName?
        let cancel: [VIPTimerKind]
        switch state {
        case .conflict(var conflicted):
            conflicted.claimedBy = claimant
            conflicted.lastClaimAt = now
            state = .conflict(conflicted)
            markContested(by: claimant, now: now)
            return .conflict(
                ConflictResponse(
                    claimedBy: claimant, defend: nil, contested: true, logSuppressed: log,
                    timer: conflictTimer(at: now.advanced(by: policy.retryAfter)), yield: nil))
        case .pending:
            markContested(by: claimant, now: now)
            return .conflict(
                ConflictResponse(
                    claimedBy: claimant, defend: nil, contested: true, logSuppressed: log,
                    timer: conflictTimer(at: now.advanced(by: policy.defendInterval)), yield: nil))
        case .broadcast(let s): (agent, epoch, bound, cancel) = (s.agent, s.epoch, s.boundAgent, [.confirm])
        case .enqueued(let s): (agent, epoch, bound, cancel) = (s.agent, s.epoch, s.agent.name, [])
        case .active(let s): (agent, epoch, bound, cancel) = (s.agent, s.epoch, s.agent.name, [.announce])
        case .withdrawn, .failed: return .none
        }

        let recentlyDefended = conflicts.lastDefenseAt.map { now.duration(since: $0) < policy.defendInterval } ?? false
        let defends: Bool
        switch policy.policy {
        case .defend: defends = !recentlyDefended
        case .alarm: defends = false
        case .yield: defends = !recentlyDefended && conflicts.contest == nil
        }
        if defends {
            conflicts.lastDefenseAt = now
            let defence = Announcement(vip: vip, agent: agent, round: 0, retransmission: 0, epoch: epoch)
            let timer = conflicts.contest == nil ? nil : conflictTimer(at: now.advanced(by: policy.defendInterval))
            return .conflict(
                ConflictResponse(
                    claimedBy: claimant, defend: defence, contested: conflicts.contest != nil, logSuppressed: log,
                    timer: timer, yield: nil))
        }
        markContested(by: claimant, now: now)
        guard policy.policy == .yield else {
            return .conflict(
                ConflictResponse(
                    claimedBy: claimant, defend: nil, contested: true, logSuppressed: log,
                    timer: conflictTimer(at: now.advanced(by: policy.defendInterval)), yield: nil))
        }
        // Yield (RFC 5227 §2.4 (b)): stop answering and hold nothing.
        let removes = releasesLocalAddress()
        state = .conflict(Conflicted(claimedBy: claimant, since: now, lastClaimAt: now, epoch: epoch))
        return .conflict(
            ConflictResponse(
                claimedBy: claimant, defend: nil, contested: true, logSuppressed: log,
                timer: conflictTimer(at: now.advanced(by: policy.retryAfter)),
                yield: Release(unbind: bound, removesLocalAddress: removes, cancel: cancel)))
    }

    /// A host answered the probe sent before this VIP's first activation: do not claim it;
    /// wait as a yielded VIP does, until no claim came for `retryAfter`.
    public mutating func probeLost(now: Instant) -> Action {
        guard case .pending(let pending) = state, let claimant = conflicts.lastClaimBy else { return .none }
        let last = conflicts.lastClaimAt ?? now
        state = .conflict(Conflicted(claimedBy: claimant, since: now, lastClaimAt: last, epoch: pending.epoch))
        return .schedule(conflictTimer(at: last.advanced(by: settings.conflicts.retryAfter)))
    }

    /// The conflict timer fired: clear a contest that went quiet, or let a yielded VIP
    /// try again; otherwise arm it again for the latest claim.
    mutating func conflictTimerFired(now: Instant) -> Action {
        let policy = settings.conflicts
        switch state {
        case .conflict(let conflicted):
            let due = conflicted.lastClaimAt.advanced(by: policy.retryAfter)
            guard now >= due else { return .schedule(conflictTimer(at: due)) }
            conflicts.contest = nil
            state = .pending(
                Pending(reason: .awaitingSelection, epoch: conflicted.epoch, boundAgent: nil, since: now, failoverStartedAt: nil))
            return .rejoin
        case .withdrawn, .failed:
            return .none
        case .pending, .broadcast, .enqueued, .active:
            guard conflicts.contest != nil, let last = conflicts.lastClaimAt else { return .none }
            let due = last.advanced(by: policy.defendInterval)
            guard now >= due else { return .schedule(conflictTimer(at: due)) }
            conflicts.contest = nil
            return .conflictCleared
        }
    }

    private mutating func markContested(by claimant: MACAddress, now: Instant) {
        conflicts.contest = Contest(claimedBy: claimant, since: conflicts.contest?.since ?? now)
        conflicts.contest?.claimedBy = claimant
    }

    /// A log line is due at most once per defend interval; claims in between are counted.
    private mutating func nextLogLine(now: Instant) -> Int? {
        if let last = conflicts.lastLogAt, now.duration(since: last) < settings.conflicts.defendInterval {
            conflicts.suppressed += 1
            return nil
        }
        let suppressed = conflicts.suppressed
        conflicts.suppressed = 0
        conflicts.lastLogAt = now
        return suppressed
    }

    private func conflictTimer(at deadline: Instant) -> ScheduledTimer {
        ScheduledTimer(id: VIPTimerID(kind: .conflict, epoch: 0), deadline: deadline)
    }
}
