import Foundation
import ProxyARPCore
import ProxyARPStateMachines

/// Where a failover's time goes, for the failover tests' report lines: the wall-clock
/// times of the daemon's own transitions (from its trace dump) beside the test's cut and
/// the client's capture of the first announcement from the new agent.
///
/// Every time is nanoseconds since the Unix epoch; nil when the trace or the capture did
/// not show that step. Reported, never asserted on (no wall-clock speed asserts).
struct FailoverTimeline {
    /// The test started the command that cuts the agent's carrier.
    var cutStartedAt: Int64
    /// That command returned.
    var cutReturnedAt: Int64
    /// The old agent's health machine got the link loss, carrier or admin (rtnetlink →
    /// engine → adapter).
    var linkLossSeenAt: Int64?
    /// The selector's pass for the old agent's candidate change.
    var selectorPassAt: Int64?
    /// The VIP's machine got its new agent: its first announcement round is sent now.
    var decisionDeliveredAt: Int64?
    /// The client's capture saw the first announcement from the new agent.
    var firstAnnouncementAt: Int64?
    /// The announcement was confirmed (heard by a sibling, or transmitted).
    var confirmedAt: Int64?
    /// The outbound path was bound to the new agent: the VIP is active there.
    var boundAt: Int64?

    /// Reads the steps of `vip`'s failover away from `oldAgent` out of `trace`, taking the
    /// first record of each kind at or after the cut.
    init(
        trace: [MachineTraceRecord], vip: IPAddress, oldAgent: String, cutStartedAt: Int64, cutReturnedAt: Int64,
        firstAnnouncementAt: Int64?
    ) {
        self.cutStartedAt = cutStartedAt
        self.cutReturnedAt = cutReturnedAt
        self.firstAnnouncementAt = firstAnnouncementAt
        let after = trace.filter { $0.wallNanoseconds >= cutStartedAt }
        let old = AdapterName(oldAgent)
        linkLossSeenAt = after.first { record in
            guard record.subject == .adapter(old), case .adapter(.linkChanged(let adminUp, let carrier, _)) = record.event else {
                return false
            }
            return !adminUp || !carrier
        }?.wallNanoseconds
        selectorPassAt = after.first { record in
            guard record.subject == .selector, case .selection(.candidateChanged(let candidate)) = record.event else { return false }
            return candidate.name == old && !candidate.linkUp
        }?.wallNanoseconds
        let mine = after.filter { $0.subject == .vip(vip) }
        decisionDeliveredAt = mine.first { if case .vip(.agentSelected) = $0.event { true } else { false } }?.wallNanoseconds
        confirmedAt = mine.first { record in
            switch record.event {
            case .vip(.announcementSeen), .vip(.announcementTransmitted): record.to.hasPrefix("enqueued")
            default: false
            }
        }?.wallNanoseconds
        boundAt = mine.first { if case .vip(.outboundPathBound) = $0.event { true } else { false } }?.wallNanoseconds
    }

    /// One line: each step in milliseconds after the cut started (`-` when not seen).
    var summary: String {
        func ms(_ at: Int64?) -> String {
            at.map { String(format: "%.2f", Double($0 - cutStartedAt) / 1e6) } ?? "-"
        }
        return "cut command returned \(ms(cutReturnedAt)), daemon saw the link loss \(ms(linkLossSeenAt)), "
            + "selector pass \(ms(selectorPassAt)), VIP got its new agent \(ms(decisionDeliveredAt)), "
            + "first announcement on the client's wire \(ms(firstAnnouncementAt)), confirmed \(ms(confirmedAt)), "
            + "outbound path bound \(ms(boundAt)) (ms after the cut started)"
    }
}
