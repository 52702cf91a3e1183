import ProxyARPCore

/// When rebalancing moves units, and how fast.
public struct RebalanceSettings: Sendable, Hashable {
    /// A host receives units by rebalancing only once it has been a member, able to serve,
    /// without a break for this long (hysteresis: a flapping host moves nothing).
    /// `.zero`: never rebalance (the first owner keeps a unit until it goes).
    public var settle: Duration
    /// Handovers this host has in flight at most (each is a short gap for its unit's VIPs).
    public var inFlight: Int
    /// A handover counts as in flight until the unit's next owner is seen, or this long.
    public var timeout: Duration
    /// A handover that did not end with its target holding the unit is not tried again
    /// towards that same life of the target (the same `ableSince`) for this long: a target
    /// that publishes "able" but never claims would otherwise bounce the unit forever. A
    /// target that left and came back (a restarted daemon) gets a fresh chance once settled.
    public var retryAfter: Duration

    /// Creates the settings: 3 s settle, 4 in flight, 2 s timeout, 30 s before a retry.
    public init(settle: Duration = .seconds(3), inFlight: Int = 4, timeout: Duration = .seconds(2), retryAfter: Duration = .seconds(30)) {
        self.settle = settle
        self.inFlight = inFlight
        self.timeout = timeout
        self.retryAfter = retryAfter
    }
}

/// Decides which of this host's units to hand over to their natural owner. A pure value;
/// the cluster coordinator feeds each chosen unit's ``OwnershipStateMachine`` a
/// ``OwnershipEvent/handOver`` (stop serving, delete the key guarded by the token) and the
/// natural owner, rank 0 for that unit, claims it at once on the DELETE.
///
/// A unit is handed over when: rebalancing is on; this host may serve; the unit's natural
/// owner (rank 0 among the able members and this host, `preferred_hosts` first) is another
/// host that has been able without a break for ``RebalanceSettings/settle``; fewer than
/// ``RebalanceSettings/inFlight`` handovers are in flight; and no recent handover of that
/// unit to that same life of that host failed. A handover ends when the unit's key is
/// written again (by the target: done; by anyone else: failed, cooled down), or after the
/// timeout (failed).
public struct ClusterRebalancer: Sendable, Equatable {
    /// One handover in flight.
    public struct Handover: Sendable, Equatable {
        /// The natural owner the unit goes to.
        public var target: String
        /// When it was decided.
        public var started: Instant
        /// The target's `ableSince` then: which life of the target it went to.
        public var targetSince: Instant?
    }

    /// One owned unit, as the coordinator lists it.
    public struct OwnedUnit: Sendable, Equatable {
        /// The unit's name.
        public var unit: String
        /// Its `preferred_hosts`.
        public var preferred: [String]

        /// Creates an entry.
        public init(unit: String, preferred: [String] = []) {
            self.unit = unit
            self.preferred = preferred
        }
    }

    /// The timing.
    public let settings: RebalanceSettings
    /// Handovers in flight, by unit.
    public private(set) var inFlight: [String: Handover] = [:]
    /// Failed handovers: (unit, target) not tried again before the instant.
    private var cooldown: [String: Cooldown] = [:]

    /// A failed handover's unit and target (that life of it), blocked until an instant.
    private struct Cooldown: Sendable, Equatable {
        var target: String
        var targetSince: Instant?
        var until: Instant
    }

    /// A rebalancer with `settings`.
    public init(settings: RebalanceSettings = RebalanceSettings()) { self.settings = settings }

    /// The units to hand over now, with their targets, in unit order; they are in flight
    /// from now on. `owned` are the units this host serves; `selfAble` says whether it may
    /// serve at all.
    public mutating func handovers(
        owned: [OwnedUnit], membership: ClusterMembership, selfAble: Bool, now: Instant
    ) -> [(unit: String, target: String)] {
        for (unit, handover) in inFlight where now >= handover.started.advanced(by: settings.timeout) {
            inFlight[unit] = nil
            cooldown[unit] = Cooldown(target: handover.target, targetSince: handover.targetSince, until: now.advanced(by: settings.retryAfter))
        }
        cooldown = cooldown.filter { now < $0.value.until }
        guard settings.settle > .zero, selfAble else { return [] }
        var slots = settings.inFlight - inFlight.count
        var chosen: [(unit: String, target: String)] = []
        for entry in owned.sorted(by: { $0.unit < $1.unit }) where slots > 0 && inFlight[entry.unit] == nil {
            guard let natural = membership.naturalOwner(unit: entry.unit, preferred: entry.preferred, selfAble: true),
                natural != membership.host, membership.isSettled(natural, now: now, settle: settings.settle),
                !isCoolingDown(entry.unit, towards: natural, since: membership.members[natural]?.ableSince, now: now)
            else { continue }
            inFlight[entry.unit] = Handover(target: natural, started: now, targetSince: membership.members[natural]?.ableSince)
            chosen.append((entry.unit, natural))
            slots -= 1
        }
        return chosen
    }

    /// `unit`'s key was written by `holder`: its handover (if any) ended, well when the
    /// holder is the target, otherwise it cools down.
    public mutating func claimed(_ unit: String, by holder: String, now: Instant) {
        guard let handover = inFlight.removeValue(forKey: unit) else { return }
        if handover.target != holder {
            cooldown[unit] = Cooldown(target: handover.target, targetSince: handover.targetSince, until: now.advanced(by: settings.retryAfter))
        }
    }

    /// Forgets every handover (the lease is gone: this host owns nothing any more).
    public mutating func reset() {
        inFlight = [:]
    }

    /// True while `unit`'s handover to `target`, in its life that began at `since` (its
    /// `ableSince`), is cooling down after a failure.
    public func isCoolingDown(_ unit: String, towards target: String, since: Instant?, now: Instant) -> Bool {
        guard let entry = cooldown[unit] else { return false }
        return entry.target == target && entry.targetSince == since && now < entry.until
    }
}
