import ProxyARPCore

extension AdapterHealthStateMachine {
    /// Feeds one event.
    public mutating func handle(_ event: AdapterHealthEvent) throws(UnreachableTransition) -> Action {
        switch event {
        case .linkChanged(let adminUp, let carrier, let now): linkChanged(adminUp: adminUp, carrier: carrier, now: now)
        case .linkRemoved(let now): linkRemoved(now: now)
        case .transmitFailed(let now): transmitFailed(now: now)
        case .transmitSucceeded(let now): transmitSucceeded(now: now)
        case .announcementsUnconfirmed(let now): announcementsUnconfirmed(now: now)
        case .holdDownExpired(let epoch, let now): try holdDownExpired(epoch: epoch, now: now)
        }
    }

    /// rtnetlink reported the link.
    public mutating func linkChanged(adminUp: Bool, carrier: Bool, now: Instant) -> Action {
        let linkUp = adminUp && carrier
        let downReason: IneligibleReason = adminUp ? .noCarrier : .adminDown
        switch state {
        case .down, .removed:
            // A re-created adapter is set up again from scratch (sysctls, capture, agent
            // table) and is not trusted before a hold-down, however long it was gone.
            let recreated = isRecreated
            guard linkUp else {
                state = .down(Down(reason: downReason, since: now, afterRemoval: recreated))
                return .none
            }
            forgetOldFailures(now: now)
            if recentFailures.isEmpty && !recreated {
                state = .eligible(Eligible(since: now, transmitErrors: 0))
                return .becameEligible
            }
            return startHoldDown(cause: recreated ? .removed : downReason, linkUp: true, now: now, ineligible: nil)

        case .eligible:
            guard !linkUp else { return .none }
            recentFailures.append(now)
            state = .down(Down(reason: downReason, since: now))
            return .becameIneligible(downReason)

        case .holdDown(var holdDown):
            if linkUp {
                holdDown.linkUp = true
                state = .holdDown(holdDown)
                return .none
            }
            recentFailures.append(now)
            state = .down(Down(reason: downReason, since: now))
            return .none

        case .failed:
            return .none
        }
    }

    /// The link disappeared.
    public mutating func linkRemoved(now: Instant) -> Action {
        let wasEligible = isEligible
        if case .failed = state { return .none }
        recentFailures.append(now)
        state = .removed(Removed(since: now))
        return wasEligible ? .becameIneligible(.removed) : .none
    }

    /// A transmit failed; enough in a row make the adapter ineligible.
    public mutating func transmitFailed(now: Instant) -> Action {
        guard case .eligible(var eligible) = state else { return .none }
        eligible.transmitErrors += 1
        guard eligible.transmitErrors >= settings.transmitErrorThreshold else {
            state = .eligible(eligible)
            return .none
        }
        recentFailures.append(now)
        return startHoldDown(cause: .transmitErrors, linkUp: true, now: now, ineligible: .transmitErrors)
    }

    /// A transmit succeeded: the error streak ends.
    public mutating func transmitSucceeded(now: Instant) -> Action {
        guard case .eligible(var eligible) = state, eligible.transmitErrors > 0 else { return .none }
        eligible.transmitErrors = 0
        state = .eligible(eligible)
        return .none
    }

    /// A VIP's announcements through this adapter were never heard: it is cut off.
    /// In `eligible` the adapter is held down and its VIPs move; a last resort (see
    /// ``lastResortUntil``) is held down again for this cause and stops being one.
    public mutating func announcementsUnconfirmed(now: Instant) -> Action {
        switch state {
        case .eligible:
            recentFailures.append(now)
            return startHoldDown(cause: .unconfirmedAnnouncements, linkUp: true, now: now, ineligible: .unconfirmedAnnouncements)
        case .holdDown where lastResortUntil != nil:
            recentFailures.append(now)
            return startHoldDown(cause: .unconfirmedAnnouncements, linkUp: true, now: now, ineligible: nil)
        case .holdDown, .down, .removed, .failed:
            return .none
        }
    }

    /// The hold-down timer fired.
    public mutating func holdDownExpired(epoch: UInt64, now: Instant) throws(UnreachableTransition) -> Action {
        guard epoch == holdDownEpoch else { return .none }
        let wasArmed = holdDownTimerArmed
        holdDownTimerArmed = false
        switch state {
        case .holdDown(let holdDown) where holdDown.linkUp:
            state = .eligible(Eligible(since: now, transmitErrors: 0))
            return .becameEligible
        case .holdDown, .down, .removed, .failed:
            return .none
        case .eligible where wasArmed:
            // The hold-down was interrupted (link down or removed) and the link came back
            // after the flap window, straight to eligible; the timer armed for it was never
            // cancelled (there is no cancel action) and runs out now. Possible whenever
            // `holdDown * maxHoldDownFactor` exceeds `flapWindow`. Stale, not a bug.
            return .none
        case .eligible:
            let error = UnreachableTransition(state: "eligible", event: "holdDownExpired(#\(epoch))")
            state = .failed(Failed(error: error))
            if assertsOnUnreachable { assertionFailure("unreachable adapter transition: \(error)") }
            throw error
        }
    }

    /// True in `removed`, and in `down` after a removal the link has not come up since.
    private var isRecreated: Bool {
        switch state {
        case .removed: true
        case .down(let down): down.afterRemoval
        case .holdDown, .eligible, .failed: false
        }
    }

    /// The hold-down the next failure-free period must last, given recent failures.
    public func holdDownDuration(now: Instant) -> Duration {
        let window = now.advanced(by: .zero - settings.flapWindow)
        let count = max(1, recentFailures.filter { $0 >= window }.count)
        let factor = min(settings.maxHoldDownFactor, 1 << min(count - 1, 30))
        return settings.holdDown * factor
    }

    private mutating func startHoldDown(
        cause: IneligibleReason, linkUp: Bool, now: Instant, ineligible: IneligibleReason?
    ) -> Action {
        forgetOldFailures(now: now)
        holdDownEpoch += 1
        holdDownTimerArmed = true
        let until = now.advanced(by: holdDownDuration(now: now))
        state = .holdDown(HoldDown(cause: cause, until: until, epoch: holdDownEpoch, linkUp: linkUp))
        return .holdDown(HoldDownTimer(epoch: holdDownEpoch, deadline: until), ineligible: ineligible)
    }

    private mutating func forgetOldFailures(now: Instant) {
        let window = now.advanced(by: .zero - settings.flapWindow)
        recentFailures.removeAll { $0 < window }
    }
}

extension AdapterHealthStateMachine.State: CustomStringConvertible {
    /// The state's name.
    public var name: String {
        switch self {
        case .down: "down"
        case .holdDown: "holdDown"
        case .eligible: "eligible"
        case .removed: "removed"
        case .failed: "failed"
        }
    }

    /// The name with its key fields.
    public var description: String {
        switch self {
        case .down(let s): "down(\(s.reason.rawValue))"
        case .holdDown(let s): "holdDown(\(s.cause.rawValue) until \(s.until.nanoseconds) #\(s.epoch))"
        case .eligible(let s): "eligible(txerr \(s.transmitErrors))"
        case .removed: "removed"
        case .failed(let s): "failed(\(s.error.event))"
        }
    }
}
