import Foundation
import Glibc
import ProxyARPCore
import ProxyARPStateMachines
import ProxyARPTestSupport

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
    /// A plain `ip -ts monitor link` in the host namespace printed the link loss: the
    /// nearest the test gets to the kernel's event (one C process woken by it).
    var witnessedAt: Int64?
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
        witnessedAt: Int64? = nil, firstAnnouncementAt: Int64?
    ) {
        self.cutStartedAt = cutStartedAt
        self.cutReturnedAt = cutReturnedAt
        self.witnessedAt = witnessedAt
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
        return "cut command returned \(ms(cutReturnedAt)), ip monitor saw the link loss \(ms(witnessedAt)), "
            + "daemon saw it \(ms(linkLossSeenAt)), "
            + "selector pass \(ms(selectorPassAt)), VIP got its new agent \(ms(decisionDeliveredAt)), "
            + "first announcement on the client's wire \(ms(firstAnnouncementAt)), confirmed \(ms(confirmedAt)), "
            + "outbound path bound \(ms(boundAt)) (ms after the cut started)"
    }
}

/// `ip -ts monitor link dev NAME` in a namespace: when a plain netlink listener heard the
/// link lose its carrier (or go admin down), to set the daemon's own reaction against.
struct LinkLossWitness {
    let process: LabProcess

    /// Starts the monitor of `device` in `namespace`; its output goes to `directory/name.log`.
    static func start(device: String, namespace: String, directory: String, name: String) async throws -> LinkLossWitness {
        let process = try LabProcess(
            binary: "ip", namespace: namespace, arguments: ["-ts", "monitor", "link", "dev", device],
            logPath: "\(directory)/\(name).log")
        try await Task.sleep(for: .milliseconds(300))  // subscribed before anything is cut
        return LinkLossWitness(process: process)
    }

    /// Stops the monitor; returns when it printed the first link-loss line (nanoseconds since
    /// the epoch), or nil.
    func stop() async -> Int64? {
        await process.stop()
        guard let log = try? String(contentsOfFile: process.logPath, encoding: .utf8) else { return nil }
        return Self.firstLoss(in: log)
    }

    /// The time of the first `[2026-11-29T12:16:59.766337] ... <NO-CARRIER,...` (or admin
    /// down: `state DOWN`) line, read as UTC.
    static func firstLoss(in log: String) -> Int64? {
        for line in log.split(separator: "\n") where line.hasPrefix("[") && (line.contains("NO-CARRIER") || line.contains("state DOWN")) {
            guard let close = line.firstIndex(of: "]") else { continue }
            let stamp = line[line.index(after: line.startIndex)..<close]  // 2026-11-29T12:16:59.766337
            let parts = stamp.split(separator: ".")
            guard parts.count == 2, let micros = Int64(parts[1]) else { continue }
            let numbers = parts[0].split(whereSeparator: { "-T:".contains($0) }).compactMap { Int32($0) }
            guard numbers.count == 6 else { continue }
            var fields = tm()
            fields.tm_year = numbers[0] - 1900
            fields.tm_mon = numbers[1] - 1
            fields.tm_mday = numbers[2]
            fields.tm_hour = numbers[3]
            fields.tm_min = numbers[4]
            fields.tm_sec = numbers[5]
            return Int64(timegm(&fields)) * 1_000_000_000 + micros * 1_000
        }
        return nil
    }
}
