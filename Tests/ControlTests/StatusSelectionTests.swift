import Foundation
import ProxyARPActors
import ProxyARPControl
import ProxyARPCore
import Testing

/// `status` at scale (issue 11, failure 7): at 130,560 VIPs the full reply was 34.9 MB.
/// By default a large installation gets a summary; the list only on request.
@Suite("Status selection: summary by default at scale, full list or pages on request")
struct StatusSelectionTests {
    static let base = IPv4Address("198.18.0.0")!.rawValue

    /// `count` VIPs from 198.18.0.0 on, every 100th pending, the rest active on eth0/eth1.
    static func briefs(_ count: Int) -> [VIPBrief] {
        (0..<count).map { index in
            let pending = index % 100 == 99
            return VIPBrief(
                vip: .v4(IPv4Address(rawValue: base + UInt32(index))), state: pending ? "pending" : "active",
                agent: pending ? nil : index % 2 == 0 ? "eth0" : "eth1", conflicts: 0
            )
        }
    }

    @Test("130,000 VIPs: the default reply is a summary of a few kilobytes, with counts and the capped not-active list")
    func summaryAtScale() throws {
        let briefs = Self.briefs(130_000)
        #expect(!StatusSelection.listsEverything(.status, vipCount: briefs.count))
        let plan = StatusSelection.plan(.status, briefs: briefs)
        #expect(plan.listed.isEmpty)
        #expect(plan.notActive.count == StatusSummary.notActiveLimit)
        #expect(plan.notActive.first == .v4(IPv4Address(rawValue: Self.base + 99)))

        // The reply as the daemon sends it: the summary with the not-active VIPs in full.
        var engine = try ControlCodec.decode(EngineStatus.self, from: sampleEngineStatusJSON)
        let template = engine.vips[0]
        let notActive = plan.notActive.map { address in
            var vip = template
            vip.vip = address
            vip.state = "pending"
            vip.detail = "pending(no eligible adapter)"
            return vip
        }
        engine.vips = []
        let summary = StatusSummary(counting: briefs, notActive: notActive, offset: 0, listed: 0)
        var report = StatusReport(engine: engine, io: [], monotonicNanoseconds: 0, wallNanoseconds: 0)
        report.summary = summary
        let bytes = try ControlCodec.lineBytes(ControlReply(ok: true, status: report))
        #expect(bytes.count < 100_000, "summary reply is \(bytes.count) bytes")
        #expect(summary.vips == 130_000)
        #expect(summary.byState == ["active": 128_700, "pending": 1_300])
        #expect(summary.byAgent["eth0"] == 65_000)
        #expect(summary.notActiveCount == 1_300)
    }

    @Test("pages by address, one VIP by --vip, --all, and small installations listed in full by default")
    func pagesAndSmall() {
        let briefs = Self.briefs(5_000)
        let page = StatusSelection.plan(ControlRequest(command: .status, limit: 10, offset: 4_995), briefs: briefs)
        #expect(page.listed == (4_995..<5_000).map { .v4(IPv4Address(rawValue: Self.base + UInt32($0))) })
        #expect(page.offset == 4_995)
        let one = StatusSelection.plan(ControlRequest(command: .status, vip: "198.18.0.7"), briefs: briefs)
        #expect(one.listed == [IPAddress("198.18.0.7")!])
        let unknown = StatusSelection.plan(ControlRequest(command: .status, vip: "192.0.2.1"), briefs: briefs)
        #expect(unknown.listed.isEmpty)
        let beyond = StatusSelection.plan(ControlRequest(command: .status, limit: -3, offset: 99_999), briefs: briefs)
        #expect(beyond.listed.isEmpty && beyond.offset == 5_000)
        #expect(StatusSelection.listsEverything(ControlRequest(command: .status, all: true), vipCount: 130_000))
        #expect(StatusSelection.listsEverything(.status, vipCount: StatusSelection.listingThreshold))
        #expect(!StatusSelection.listsEverything(ControlRequest(command: .status, limit: 5), vipCount: 10))
    }
}
