/// What the daemon does when another host claims one of its VIPs (RFC 5227 §2.4).
public enum ConflictPolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// Keep the VIP: defend it (both gratuitous forms from the agent) at most once per
    /// defend interval, and report it contested while claims keep coming (RFC 5227 §2.4 (c)).
    case defend
    /// Defend once; a second claim within the defend interval makes the VIP stop
    /// answering and give back what it holds, until the claims stop (RFC 5227 §2.4 (b)).
    case yield
    /// Never defend, keep answering, and report the VIP contested (RFC 5227 §2.4 (a), for
    /// operators who want to decide themselves).
    case alarm
}

/// The `conflicts:` section.
public struct ConflictConfiguration: Sendable, Hashable, Codable {
    /// What to do on a foreign claim. Default `defend`.
    public var policy: ConflictPolicy
    /// RFC 5227's DEFEND_INTERVAL: at most one defence per interval; a claim within it
    /// makes the VIP contested. Also the rate of conflict log lines per VIP. Default 10 s.
    public var defendInterval: Duration
    /// How long a yielded VIP waits without claims before it is activated again. Default 60 s.
    public var retryAfter: Duration
    /// Before VIPs are activated for the first time (start, reload), one RFC 5227 probe per
    /// VIP goes out of the adapter that would serve it, and the VIPs another host answers
    /// for in this time are not claimed. Zero: no probe. Failover never probes. Default 200 ms.
    public var probeWait: Duration

    /// Creates the settings with the documented defaults.
    public init(
        policy: ConflictPolicy = .defend, defendInterval: Duration = .seconds(10), retryAfter: Duration = .seconds(60),
        probeWait: Duration = .milliseconds(200)
    ) {
        self.policy = policy
        self.defendInterval = defendInterval
        self.retryAfter = retryAfter
        self.probeWait = probeWait
    }
}
