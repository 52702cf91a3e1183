import ProxyARPActors
import ProxyARPControl
import ProxyARPCore

/// The text `proxyarpd status` prints: a table of the VIPs, a blank line, a table of the
/// adapters, and the count of address conflicts when there were any. In cluster mode the
/// VIP table also names each VIP's owner host and fencing token, and the cluster part
/// follows: this host, the lease's remaining time, and the units with their owners.
public enum StatusTable {
    /// `report` as text. SINCE is measured against the report's own monotonic time.
    public static func render(_ report: StatusReport) -> String {
        let now = report.monotonicNanoseconds
        var vipRows = [["VIP", "STATE", "AGENT", "AGENT MAC", "LOCAL IP", "SINCE", "ANNOUNCED", "CONFIRMED", "REPLIES"]]
        if report.cluster != nil { vipRows[0] += ["OWNER", "TOKEN"] }
        for vip in report.engine.vips {
            vipRows.append([
                vip.vip.description, stateText(vip, now: now), vip.agent?.rawValue ?? "-", vip.agentMAC?.description ?? "-",
                vip.localAddress?.description ?? "-", TimelineSVG.duration(max(0, now - vip.since.nanoseconds)),
                "\(vip.announcementsSent)", "\(vip.announcementsConfirmed)",
                // Replies are tallied per VIP on the ARP path only (the adapter rows count both).
                vip.vip.family == .ipv4 ? report.repliesByVIP.map { "\($0[vip.vip.description] ?? 0)" } ?? "-" : "-",
            ])
            if let cluster = report.cluster {
                // The engine only holds VIPs this host owns; the unit says under which claim.
                let unit = vip.vip.ipv4.flatMap { cluster.unit(holding: $0) }  // cluster units hold IPv4 VIPs
                vipRows[vipRows.count - 1] += [unit?.owner ?? cluster.host, unit?.token.map(String.init) ?? "-"]
            }
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
        var out = ""
        if let summary = report.summary {
            out += summaryText(summary, report: report, now: now) + "\n\n"
        }
        if vipRows.count > 1 || report.summary == nil {
            out += TextTable.render(vipRows)
            out += "\n\n"
        }
        out += TextTable.render(adapterRows)
        if report.engine.conflicts > 0 { out += "\naddress conflicts seen: \(report.engine.conflicts)" }
        if let cluster = report.cluster { out += "\n\n" + clusterText(cluster) }
        return out
    }

    /// Cluster mode: this host, its lease and fence, then each unit's owner and fencing token.
    public static func clusterText(_ cluster: ClusterStatus) -> String {
        let remaining = cluster.fenceRemainingMilliseconds.map { "\($0) ms" } ?? "-"
        var lease = "lease \(cluster.lease ?? "none")"
        if let ttl = cluster.leaseTTLMilliseconds { lease += " (TTL \(TimelineSVG.duration(ttl * 1_000_000)))" }
        if let left = cluster.leaseRemainingMilliseconds { lease += ", \(left) ms left" }
        var lines = [
            "cluster host \(cluster.host), hosts \(cluster.hosts.joined(separator: ", ")); \(lease), "
                + "fence in \(remaining)\(cluster.fenced ? " (FENCED: not answering)" : "")"
                + (cluster.holding == true ? " (HOLDING: no etcd endpoint answers; serving owned VIPs, on_quorum_loss: hold)" : "")
        ]
        if let error = cluster.etcdError { lines.append("etcd error: \(error)") }
        if let byOwner = cluster.unitsByOwner, let count = cluster.unitCount {
            let owners = byOwner.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            lines.append("units: \(count) (by owner: \(owners.isEmpty ? "none" : owners))")
        }
        if !cluster.units.isEmpty {
            var rows = [["UNIT", "VIPS", "HERE", "OWNER", "TOKEN"]]
            for unit in cluster.units {
                rows.append([unit.unit, "\(unit.vipCount)", unit.state, unit.owner ?? "-", unit.token.map(String.init) ?? "-"])
            }
            lines.append(TextTable.render(rows))
        } else if (cluster.unitCount ?? 0) > 0 {
            lines.append("(units not listed: --all, or --vip ADDR for the unit holding a VIP)")
        }
        return lines.joined(separator: "\n")
    }

    /// The summary of a reply that lists only some VIPs: counts, then the VIPs not active.
    static func summaryText(_ summary: StatusSummary, report: StatusReport, now: Int64) -> String {
        let states = summary.byState.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        let agents = summary.byAgent.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        var lines = ["VIPs: \(summary.vips) (\(states.isEmpty ? "none" : states))"]
        if !agents.isEmpty { lines.append("per agent: \(agents)") }
        if summary.notActiveCount > 0 {
            var rows = [["NOT ACTIVE", "STATE", "AGENT", "SINCE"]]
            for vip in summary.notActive {
                rows.append([
                    vip.vip.description, stateText(vip, now: now, detail: true), vip.agent?.rawValue ?? "-",
                    TimelineSVG.duration(max(0, now - vip.since.nanoseconds)),
                ])
            }
            lines.append(TextTable.render(rows))
            if summary.notActiveCount > summary.notActive.count {
                lines.append("… and \(summary.notActiveCount - summary.notActive.count) more not active")
            }
        }
        if summary.listed == 0 {
            lines.append("(VIPs not listed: --all, --vip ADDR or --limit N [--offset N] lists them)")
        } else {
            lines.append("listing VIPs \(summary.offset + 1)–\(summary.offset + summary.listed) of \(summary.vips)")
        }
        return lines.joined(separator: "\n")
    }

    /// The state, and while another host claims the VIP, `conflict(claimed by MAC, since T)`
    /// with T how long ago the contest began.
    static func stateText(_ vip: VIPStatus, now: Int64, detail: Bool = false) -> String {
        let state = detail ? vip.detail : vip.state
        guard let conflict = vip.conflict else { return state }
        let ago = TimelineSVG.duration(max(0, now - conflict.since.nanoseconds))
        return "\(state) conflict(claimed by \(conflict.claimedBy), since \(ago))"
    }
}
