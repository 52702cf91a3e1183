import Foundation
import ProxyARPActors
import ProxyARPControl
import ProxyARPCore
import ProxyARPDaemon
import Testing

@Suite("Status rendering: the text `proxyarpd status` prints")
struct StatusTableTests {
    /// A status reply line as the daemon sends it: two VIPs (one active, one pending),
    /// two adapters (one without I/O counters), 1.5 s and 250 ms after their last change.
    static let reply = #"""
        {"ok":true,"status":{"engine":{"vips":[\#
        {"vip":"198.18.0.100","state":"active","detail":"active(h0 epoch 1 rounds 3)","agent":"h0",\#
        "agentMAC":"02:a0:00:00:00:10","localAddress":"198.18.0.10","confirmation":"heard by h1",\#
        "since":1000000000,"announcementsSent":3,"announcementsConfirmed":1,"failovers":0,"conflicts":0CONTEST},\#
        {"vip":"198.18.1.100","state":"pending","detail":"pending(no eligible adapter)",\#
        "since":2250000000,"announcementsSent":0,"announcementsConfirmed":0,"failovers":0,"conflicts":0}],\#
        "adapters":[\#
        {"name":"h0","state":"eligible(txerr 0)","eligible":true,"carrier":true,"adminUp":true,"mac":"02:a0:00:00:00:10","vipCount":1},\#
        {"name":"h2","state":"down","eligible":false,"carrier":false,"adminUp":false,"vipCount":0}],\#
        "conflicts":CONFLICTS},\#
        "io":[{"adapter":"h0","framesSeen":9,"requestsSeen":6,"repliesSent":2,"injectErrors":0,"controlFramesSent":6}],\#
        "repliesByVIP":{"198.18.0.100":2},"monotonicNanoseconds":2500000000,"wallNanoseconds":0}}
        """#

    static func render(conflicts: Int, contest: String = "") throws -> String {
        let line = reply.replacingOccurrences(of: "CONFLICTS", with: "\(conflicts)").replacingOccurrences(of: "CONTEST", with: contest)
        let decoded = try ControlCodec.decode(ControlReply.self, from: line)
        return StatusTable.render(try #require(decoded.status))
    }

    @Test("VIP and adapter tables, aligned, with - where nothing is known")
    func tables() throws {
        #expect(try Self.render(conflicts: 0) == """
            VIP           STATE    AGENT  AGENT MAC          LOCAL IP     SINCE  ANNOUNCED  CONFIRMED  REPLIES
            198.18.0.100  active   h0     02:a0:00:00:00:10  198.18.0.10  1.5s   3          1          2
            198.18.1.100  pending  -      -                  -            250ms  0          0          0

            ADAPTER  STATE              CARRIER  VIPS  REQUESTS SEEN  REPLIES SENT
            h0       eligible(txerr 0)  yes      1     6              2
            h2       down               no       0     -              -
            """)
    }

    @Test("A contested VIP says who claims it and since when, in its STATE column")
    func contested() throws {
        let text = try Self.render(conflicts: 3, contest: #","conflict":{"claimedBy":"02:00:00:00:0c:01","since":2000000000}"#)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("198.18.0.100") })
        #expect(line.contains("active conflict(claimed by 02:00:00:00:0c:01, since 500ms)"), "\(line)")
        #expect(text.hasSuffix("address conflicts seen: 3"))
    }

    @Test("Address conflicts are counted under the tables, only when there were any")
    func conflicts() throws {
        #expect(try Self.render(conflicts: 2).hasSuffix("\nh2       down               no       0     -              -\naddress conflicts seen: 2"))
        #expect(!(try Self.render(conflicts: 0).contains("conflicts")))
    }

    @Test("a summary reply: counts per state and per agent, the VIPs not active with their reasons, how to list the rest")
    func summary() throws {
        let line = Self.reply.replacingOccurrences(of: "CONFLICTS", with: "0").replacingOccurrences(of: "CONTEST", with: "")
        var report = try #require(try ControlCodec.decode(ControlReply.self, from: line).status)
        let pending = report.engine.vips[1]
        report.engine.vips = []
        report.summary = StatusSummary(
            counting: [
                VIPBrief(vip: report.engine.vips.first?.vip ?? pending.vip, state: "pending", agent: nil, conflicts: 0),
                VIPBrief(vip: .v4(IPv4Address("198.18.0.100")!), state: "active", agent: "h0", conflicts: 0),
                VIPBrief(vip: .v4(IPv4Address("198.18.0.101")!), state: "active", agent: "h0", conflicts: 0),
            ],
            notActive: [pending], offset: 0, listed: 0
        )
        let text = StatusTable.render(report)
        #expect(text.hasPrefix("""
            VIPs: 3 (2 active, 1 pending)
            per agent: h0 2
            NOT ACTIVE    STATE                         AGENT  SINCE
            198.18.1.100  pending(no eligible adapter)  -      250ms
            (VIPs not listed: --all, --vip ADDR or --limit N [--offset N] lists them)

            ADAPTER
            """), "\(text)")
    }
}
