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

    /// Creates a summary of `vips`, `listed` of them from `offset` listed in full.
    public init(of vips: [VIPStatus], offset: Int, listed: Int) {
        self.vips = vips.count
        var byState: [String: Int] = [:]
        var byAgent: [String: Int] = [:]
        var notActive: [VIPStatus] = []
        var notActiveCount = 0
        for vip in vips {
            byState[vip.state, default: 0] += 1
            if let agent = vip.agent { byAgent[agent.rawValue, default: 0] += 1 }
            if vip.state != "active" {
                notActiveCount += 1
                if notActive.count < Self.notActiveLimit { notActive.append(vip) }
            }
        }
        self.byState = byState
        self.byAgent = byAgent
        self.notActive = notActive
        self.notActiveCount = notActiveCount
        self.offset = offset
        self.listed = listed
    }
}
