import ProxyARPActors

/// `status` in a few kilobytes whatever the number of VIPs: counts per state and per
/// agent, the VIPs that are not active with their reasons (at most
/// ``notActiveLimit``), and which slice of the VIPs the reply lists.
public struct StatusSummary: Sendable, Equatable, Codable {
    /// VIPs configured.
    public var vips: Int
    /// VIPs per state (`active`, `pending`, …).
    public var byState: [String: Int]
    /// VIPs per agent adapter (VIPs without an agent are not counted here).
    public var byAgent: [String: Int]
    /// VIPs not active, in address order, at most ``notActiveLimit`` of them.
    public var notActive: [VIPStatus]
    /// VIPs not active in all (``notActive`` may hold fewer).
    public var notActiveCount: Int
    /// Index of the first VIP listed in ``StatusReport/engine`` (by address).
    public var offset: Int
    /// VIPs listed in ``StatusReport/engine``.
    public var listed: Int

    /// The most VIPs ``notActive`` holds.
    public static let notActiveLimit = 100

    /// Counts `briefs` (every VIP); `notActive` are the full statuses of the first VIPs not
    /// active; `listed` VIPs from `offset` are listed in full beside it.
    public init(counting briefs: [VIPBrief], notActive: [VIPStatus], offset: Int, listed: Int) {
        vips = briefs.count
        var byState: [String: Int] = [:]
        var byAgent: [String: Int] = [:]
        var notActiveCount = 0
        for brief in briefs {
            byState[brief.state, default: 0] += 1
            if let agent = brief.agent { byAgent[agent.rawValue, default: 0] += 1 }
            if brief.state != "active" { notActiveCount += 1 }
        }
        self.byState = byState
        self.byAgent = byAgent
        self.notActive = notActive
        self.notActiveCount = notActiveCount
        self.offset = offset
        self.listed = listed
    }
}
