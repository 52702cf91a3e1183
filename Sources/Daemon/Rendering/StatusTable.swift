import ProxyARPActors
import ProxyARPControl

/// The text `proxyarpd status` prints: a table of the VIPs, a blank line, a table of the
/// adapters, and the count of address conflicts when there were any.
public enum StatusTable {
    /// `report` as text. SINCE is measured against the report's own monotonic time.
    public static func render(_ report: StatusReport) -> String {
        let now = report.monotonicNanoseconds
        var vipRows = [["VIP", "STATE", "AGENT", "AGENT MAC", "LOCAL IP", "SINCE", "ANNOUNCED", "CONFIRMED", "REPLIES"]]
        for vip in report.engine.vips {
            vipRows.append([
                vip.vip.description, stateText(vip, now: now), vip.agent?.rawValue ?? "-", vip.agentMAC?.description ?? "-",
                vip.localAddress?.description ?? "-", TimelineSVG.duration(max(0, now - vip.since.nanoseconds)),
                "\(vip.announcementsSent)", "\(vip.announcementsConfirmed)",
                report.repliesByVIP.map { "\($0[vip.vip.description] ?? 0)" } ?? "-",
            ])
        }
        let counters = Dictionary(report.io.map { ($0.adapter, $0) }, uniquingKeysWith: { a, _ in a })
        var adapterRows = [["ADAPTER", "STATE", "CARRIER", "VIPS", "REQUESTS SEEN", "REPLIES SENT"]]
        for adapter in report.engine.adapters {
            let io = counters[adapter.name]
            adapterRows.append([
                adapter.name.rawValue, adapter.state, adapter.carrier ? "yes" : "no", "\(adapter.vipCount)",
                io.map { "\($0.requestsSeen)" } ?? "-", io.map { "\($0.repliesSent)" } ?? "-",
            ])
        }
        var out = TextTable.render(vipRows)
        out += "\n\n"
        out += TextTable.render(adapterRows)
        if report.engine.conflicts > 0 { out += "\naddress conflicts seen: \(report.engine.conflicts)" }
        return out
    }

    /// The state, and while another host claims the VIP, `conflict(claimed by MAC, since T)`
    /// with T how long ago the contest began.
    static func stateText(_ vip: VIPStatus, now: Int64) -> String {
        guard let conflict = vip.conflict else { return vip.state }
        let ago = TimelineSVG.duration(max(0, now - conflict.since.nanoseconds))
        return "\(vip.state) conflict(claimed by \(conflict.claimedBy), since \(ago))"
    }
}
