import Foundation
import ProxyARPActors
import ProxyARPControl
import ProxyARPCore
import Testing

/// `status` at scale (issue 11, failure 7): at 130,560 VIPs the full reply was 34.9 MB.
/// By default a large installation gets a summary; the list only on request.
@Suite("Status selection: summary by default at scale, full list or pages on request")
struct StatusSelectionTests {
    /// `count` VIPs from 198.18.0.0 on, every 100th pending, the rest active on eth0/eth1.
    static func report(vips count: Int) throws -> StatusReport {
        var engine = try ControlCodec.decode(EngineStatus.self, from: sampleEngineStatusJSON)
        let template = engine.vips[0]
        let base = IPv4Address("198.18.0.0")!.rawValue
        var replies: [String: UInt64] = [:]
        engine.vips = (0..<count).map { index in
            var vip = template
            vip.vip = IPv4Address(rawValue: base + UInt32(index))
            if index % 100 == 99 {
                vip.state = "pending"
                vip.detail = "pending(no eligible adapter)"
                vip.agent = nil
            } else {
                vip.agent = index % 2 == 0 ? "eth0" : "eth1"
            }
            replies[vip.vip.description] = UInt64(index % 7)
            return vip
        }
        return StatusReport(engine: engine, io: [], repliesByVIP: replies, monotonicNanoseconds: 0, wallNanoseconds: 0)
    }

    @Test("130,000 VIPs: the default reply is a summary of a few tens of kilobytes, with counts and the capped not-active list")
    func summaryAtScale() throws {
        let full = try Self.report(vips: 130_000)
        let reply = ControlReply(ok: true, status: full.selecting(.status))
        let bytes = try ControlCodec.lineBytes(reply)
        #expect(bytes.count < 100_000, "summary reply is \(bytes.count) bytes")
        let summary = try #require(reply.status?.summary)
        #expect(summary.vips == 130_000)
        #expect(summary.byState == ["active": 128_700, "pending": 1_300])
        #expect(summary.byAgent["eth0"] == 65_000)
        #expect(summary.notActiveCount == 1_300)
        #expect(summary.notActive.count == StatusSummary.notActiveLimit)
        #expect(summary.notActive.allSatisfy { $0.detail == "pending(no eligible adapter)" })
        #expect(reply.status?.engine.vips.isEmpty == true)
        #expect((reply.status?.repliesByVIP?.count ?? 0) <= StatusSummary.notActiveLimit)
        // The whole list, as before, is what --all asks for.
        #expect(full.selecting(ControlRequest(command: .status, all: true)) == full)
    }

    @Test("pages by address, one VIP by --vip, and small installations listed in full by default")
    func pagesAndSmall() throws {
        let full = try Self.report(vips: 5_000)
        let page = full.selecting(ControlRequest(command: .status, limit: 10, offset: 4_995))
        #expect(page.engine.vips.map(\.vip.description) == (4_995..<5_000).map { IPv4Address(rawValue: IPv4Address("198.18.0.0")!.rawValue + UInt32($0)).description })
        #expect(page.summary?.offset == 4_995 && page.summary?.listed == 5)
        let one = full.selecting(ControlRequest(command: .status, vip: "198.18.0.7"))
        #expect(one.engine.vips.map(\.vip.description) == ["198.18.0.7"])
        #expect(one.repliesByVIP?["198.18.0.7"] == 0)
        let beyond = full.selecting(ControlRequest(command: .status, limit: -3, offset: 99_999))
        #expect(beyond.engine.vips.isEmpty)
        let small = try Self.report(vips: StatusReport.listingThreshold)
        #expect(small.selecting(.status) == small)
    }
}
