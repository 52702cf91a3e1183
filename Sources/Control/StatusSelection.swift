import ProxyARPActors
import ProxyARPCore

/// Which VIPs a `status` request lists, and what it asks of the engine for that.
///
/// Up to ``listingThreshold`` VIPs, a plain `status` lists every one. Above it, the reply is
/// a ``StatusSummary`` counted from ``Engine/briefs()`` (a state name and an agent per VIP,
/// read in one lock) plus the full status of the VIPs it names: the first not active, and those
/// asked for (`vip`, or a page by `limit`/`offset`). `all` lists every VIP, however many.
/// At 130,000 VIPs the full list is 36.5 MB and seconds to build; the summary a few hundred
/// bytes.
public enum StatusSelection {
    /// The most VIPs a plain `status` lists in full.
    public static let listingThreshold = 1_000

    /// What to fetch in full for `request`, given every VIP's brief (by address).
    public struct Plan: Sendable, Equatable {
        /// VIPs the reply lists, in address order.
        public var listed: [IPAddress]
        /// The first VIPs not active (at most ``StatusSummary/notActiveLimit``).
        public var notActive: [IPAddress]
        /// Index of the first listed VIP.
        public var offset: Int
    }

    /// True when `request` gets every VIP in full (no summary).
    public static func listsEverything(_ request: ControlRequest, vipCount: Int) -> Bool {
        request.all == true
            || (request.vip == nil && request.limit == nil && request.offset == nil && vipCount <= listingThreshold)
    }

    /// The VIPs to fetch in full for `request`.
    public static func plan(_ request: ControlRequest, briefs: [VIPBrief]) -> Plan {
        var listed: [IPAddress] = []
        var offset = 0
        if let text = request.vip {
            let address = IPAddress(text)
            listed = briefs.filter { $0.vip == address }.map(\.vip)
        } else if request.limit != nil || request.offset != nil {
            offset = min(max(request.offset ?? 0, 0), briefs.count)
            let limit = min(max(request.limit ?? briefs.count, 0), briefs.count - offset)
            listed = briefs[offset..<(offset + limit)].map(\.vip)
        }
        var notActive: [IPAddress] = []
        for brief in briefs where brief.state != "active" {
            guard notActive.count < StatusSummary.notActiveLimit else { break }
            notActive.append(brief.vip)
        }
        return Plan(listed: listed, notActive: notActive, offset: offset)
    }

    /// The engine's part of the reply to `request`, and its summary when it lists only
    /// some VIPs.
    public static func engineStatus(for request: ControlRequest, engine: Engine) async -> (EngineStatus, StatusSummary?) {
        if request.all == true { return (await engine.status(), nil) }
        let briefs = await engine.briefs()
        if listsEverything(request, vipCount: briefs.count) { return (await engine.status(), nil) }
        let plan = plan(request, briefs: briefs)
        var status = await engine.status(of: plan.listed + plan.notActive)
        let fetched = Dictionary(status.vips.map { ($0.vip, $0) }, uniquingKeysWith: { first, _ in first })
        status.vips = plan.listed.compactMap { fetched[$0] }
        status.conflicts = briefs.reduce(0) { $0 + $1.conflicts }
        let summary = StatusSummary(
            counting: briefs, notActive: plan.notActive.compactMap { fetched[$0] }, offset: plan.offset,
            listed: status.vips.count
        )
        return (status, summary)
    }
}
