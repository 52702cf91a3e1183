import ProxyARPActors
import ProxyARPCore

extension StatusReport {
    /// Up to this many VIPs, a plain `status` lists every one; above it, it sends the
    /// ``StatusSummary`` only (`--all`, `--vip` or `--limit`/`--offset` list them). At
    /// 130,000 VIPs the full list is tens of megabytes; the summary a few kilobytes.
    public static let listingThreshold = 1_000

    /// The reply `request` asks for: every VIP (`all`, or few enough VIPs), one VIP
    /// (`vip`), a page (`limit`/`offset`), or the summary alone. Anything short of the whole
    /// list carries a ``StatusSummary``; per-VIP reply counts only for the VIPs listed.
    public func selecting(_ request: ControlRequest) -> StatusReport {
        let vips = engine.vips  // by address (``EngineStatus``)
        let paged = request.limit != nil || request.offset != nil
        if request.all == true || (request.vip == nil && !paged && vips.count <= Self.listingThreshold) {
            return self
        }
        var selected: [VIPStatus]
        var offset = 0
        if let text = request.vip {
            let address = IPv4Address(text)
            selected = vips.filter { $0.vip == address }
        } else if paged {
            offset = min(max(request.offset ?? 0, 0), vips.count)
            let limit = min(max(request.limit ?? vips.count, 0), vips.count - offset)
            selected = Array(vips[offset..<(offset + limit)])
        } else {
            selected = []
        }
        let summary = StatusSummary(of: vips, offset: offset, listed: selected.count)
        var reply = self
        reply.engine.vips = selected
        reply.summary = summary
        if let replies = repliesByVIP {
            var kept: [String: UInt64] = [:]
            for vip in selected + summary.notActive {
                let key = vip.vip.description
                if let count = replies[key] { kept[key] = count }
            }
            reply.repliesByVIP = kept
        }
        return reply
    }
}
