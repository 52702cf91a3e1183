import Logging
import ProxyARPActors
import ProxyARPCore
import ProxyARPTestSupport
import Testing

/// Issue 11, failure 7: at 130,560 VIPs activation logged one info line per VIP (23.6 MB).
@Suite("Activation at scale is logged as summaries")
struct ActivationLogTests {
    @Test("2,000 VIPs activate: no per-VIP line at info, a few `VIPs activated` lines whose counts add up to 2,000")
    func summariesNotLinesPerVIP() async throws {
        let handler = RecordingLogHandler(level: .info)
        let started = ContinuousClock.now
        let lab = EngineLab(vips: vipRange("198.19.0.1", count: 2000), logHandler: handler)
        lab.allLinksUp()
        #expect(await lab.eventually(20_000) { await lab.vipsSatisfy { $0.state == "active" } })
        // The engine flushes the summary every second: wait (bounded) for the last one.
        func total() -> Int {
            handler.recorded.filter { $0.message == "VIPs activated" }.reduce(0) { $0 + (Int($1.metadata["count"] ?? "") ?? 0) }
        }
        #expect(await lab.eventually(5_000) { total() == 2000 }, "counted \(total())")
        await lab.stop()
        // Measured after the stop, whose flush is the last line: a run slowed down by a busy
        // machine ends its last second with a tick and the stop's flush both.
        let elapsed = ContinuousClock.now - started

        let info = handler.recorded.filter { $0.level >= .info }
        #expect(!info.contains { $0.message == "VIP active" || $0.message == "VIP failed over" })
        let summaries = info.filter { $0.message == "VIPs activated" }
        #expect(summaries.count >= 1)
        // At most one per started second (the ticks), plus the first one and the stop's flush.
        let seconds = Int((elapsed / .seconds(1)).rounded(.up))
        #expect(summaries.count <= seconds + 2, "\(summaries.count) lines in \(elapsed)")
        #expect(summaries.last?.metadata["total"] == "2000")
        #expect(info.count < 100, "\(info.count) info lines for 2,000 VIPs")
    }

    @Test("within one interval: the first activation is logged at once, the rest by the flush, in one line")
    func oneLinePerInterval() {
        let handler = RecordingLogHandler(level: .info)
        let logger = Logger(label: "test") { _ in handler }
        let log = ActivationLog(interval: .seconds(3600))
        for index in 0..<10_000 { log.record(failover: index % 10 == 0, logger: logger) }
        #expect(handler.recorded.count == 1)
        log.flush(logger: logger)
        log.flush(logger: logger)  // nothing new: no line
        let lines = handler.recorded
        #expect(lines.count == 2)
        #expect(lines.map { $0.metadata["count"] } == ["0", "9000"])
        #expect(lines.map { $0.metadata["failovers"] } == ["1", "999"])
        #expect(lines.last?.metadata["total"] == "9000")
        #expect(log.totalActivated == 9000)
    }
}
