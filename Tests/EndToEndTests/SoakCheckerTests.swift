import ProxyARPCore
import ProxyARPTestSupport
import Testing

/// The soak's judgement on crafted input: what ``SoakReplyChecker`` calls a wrong reply,
/// what ``SoakStuckTracker`` calls stuck, and that ``SoakJudge`` fails a run that has one.
/// Pure: no lab, no root.
@Suite("Soak checker")
struct SoakCheckerTests {
    static let vip = IPv4Address(198, 18, 0, 100)
    static let h0 = MACAddress(0x02, 0xa0, 0, 0, 0, 0x10)
    static let h1 = MACAddress(0x02, 0xa0, 0, 0, 0, 0x11)
    static let h2 = MACAddress(0x02, 0xa0, 0, 0, 0, 0x12)
    static let second: Int64 = 1_000_000_000
    static let grace: Int64 = 500_000_000

    static func snapshot(_ at: Int64, _ agent: MACAddress?) -> SoakAgentSnapshot {
        SoakAgentSnapshot(at: at, agents: agent.map { [vip: $0] } ?? [:])
    }

    @Test("a reply from the agent is right; from another adapter, with no agent, or with a forged source, wrong")
    func wrongReplies() {
        var checker = SoakReplyChecker(grace: Self.grace)
        for at in stride(from: 0, through: 10 * Self.second, by: Int(Self.second / 4)) {
            checker.record(Self.snapshot(at, Self.h0))
        }
        checker.add([
            SoakReply(at: 2 * Self.second, vip: Self.vip, mac: Self.h0),
            SoakReply(at: 3 * Self.second, vip: Self.vip, mac: Self.h1),  // never the agent
            SoakReply(at: 4 * Self.second, vip: IPv4Address(198, 18, 0, 200), mac: Self.h0),  // no agent: not configured
            SoakReply(at: 5 * Self.second, vip: Self.vip, mac: Self.h0, ethernetSourceDiffers: true),
        ])
        checker.check()
        #expect(checker.checked == 4)
        #expect(checker.wrong == 3)
        #expect(checker.examples.map(\.mac) == [Self.h1.description, Self.h0.description, Self.h0.description])
        #expect(checker.examples[0].reason.contains("not the agent"))
        #expect(checker.examples[1].reason.contains("no agent"))
        #expect(checker.examples[2].reason.contains("Ethernet source"))
    }

    @Test("a move between two polls: the old and the new agent are both right inside the window, the old one wrong after it")
    func moveBetweenPolls() {
        var checker = SoakReplyChecker(grace: Self.grace)
        // h0 until 5 s, h1 from the poll at 6 s (the move happened in between).
        for at in stride(from: 0, through: 5 * Self.second, by: Int(Self.second)) { checker.record(Self.snapshot(at, Self.h0)) }
        for at in stride(from: 6 * Self.second, through: 12 * Self.second, by: Int(Self.second)) { checker.record(Self.snapshot(at, Self.h1)) }
        checker.add([
            SoakReply(at: 5 * Self.second + Self.second / 2, vip: Self.vip, mac: Self.h0),
            SoakReply(at: 5 * Self.second + Self.second / 2, vip: Self.vip, mac: Self.h1),
            SoakReply(at: 6 * Self.second + Self.second / 4, vip: Self.vip, mac: Self.h0),  // window from the 5 s poll (h0) to the 7 s one
            SoakReply(at: 8 * Self.second, vip: Self.vip, mac: Self.h0),  // 2 s after the move: wrong
        ])
        checker.check()
        #expect(checker.checked == 4)
        #expect(checker.wrong == 1)
        #expect(checker.examples.first?.at == 8 * Self.second)
    }

    @Test("two changes between polls: the trace's agent selection makes the short-lived agent right")
    func selectionFromTrace() {
        // h0 in every poll until 5 s; the VIP moved to h2 at 5.2 s and was withdrawn at 5.6 s;
        // the next poll (6 s) lists no agent. A reply from h2 at 5.4 s:
        var without = SoakReplyChecker(grace: Self.grace)
        var with = SoakReplyChecker(grace: Self.grace)
        for checker in [0, 1] {
            for at in stride(from: 0, through: 5 * Self.second, by: Int(Self.second)) {
                if checker == 0 { without.record(Self.snapshot(at, Self.h0)) } else { with.record(Self.snapshot(at, Self.h0)) }
            }
            for at in stride(from: 6 * Self.second, through: 8 * Self.second, by: Int(Self.second)) {
                if checker == 0 { without.record(Self.snapshot(at, nil)) } else { with.record(Self.snapshot(at, nil)) }
            }
        }
        with.recordSelection(of: Self.vip, mac: Self.h2, at: 5 * Self.second + Self.second / 5)
        let reply = SoakReply(at: 5 * Self.second + 2 * Self.second / 5, vip: Self.vip, mac: Self.h2)
        without.add([reply])
        with.add([reply])
        without.check()
        with.check()
        #expect(without.wrong == 1)
        #expect(with.wrong == 0)
        // A selection long before the reply does not excuse it.
        var stale = SoakReplyChecker(grace: Self.grace)
        stale.recordSelection(of: Self.vip, mac: Self.h2, at: Self.second)
        for at in stride(from: 2 * Self.second, through: 8 * Self.second, by: Int(Self.second)) { stale.record(Self.snapshot(at, Self.h0)) }
        stale.add([SoakReply(at: 5 * Self.second, vip: Self.vip, mac: Self.h2)])
        stale.check()
        #expect(stale.wrong == 1)
    }

    @Test("replies added late, after many polls with nothing pending, are judged against the polls of their time")
    func lateBatch() {
        var checker = SoakReplyChecker(grace: Self.grace)
        // 100 polls (25 s) with h0, then 100 with h1, each followed by a check with nothing pending.
        for index in 0..<200 {
            checker.record(Self.snapshot(Int64(index) * Self.second / 4, index < 100 ? Self.h0 : Self.h1))
            checker.check()
        }
        // Then a batch from 20 s (h0's time) and from 40 s (h1's) arrives.
        checker.add([SoakReply(at: 20 * Self.second, vip: Self.vip, mac: Self.h0), SoakReply(at: 40 * Self.second, vip: Self.vip, mac: Self.h1)])
        checker.check()
        #expect(checker.checked == 2)
        #expect(checker.wrong == 0, "\(checker.examples)")
    }

    @Test("a reply waits until the trace was read past its window: a selection read late still counts")
    func traceReadLate() {
        var checker = SoakReplyChecker(grace: Self.grace)
        checker.recordTrace(through: 0)
        checker.record(Self.snapshot(0, Self.h0))
        // h1 selected at 1.000 s, replies from h1 at 1.015 s; the next polls (1.6 s, 2.2 s) still
        // miss it (a reload withdrew the VIP), and the trace client's line arrives after them.
        checker.add([SoakReply(at: Self.second + 15_000_000, vip: Self.vip, mac: Self.h1)])
        checker.record(SoakAgentSnapshot(at: Self.second * 16 / 10, agents: [:]))
        checker.record(SoakAgentSnapshot(at: Self.second * 22 / 10, agents: [:]))
        checker.check()
        #expect(checker.checked == 0, "judged before the trace was read past the reply's window")
        checker.recordSelection(of: Self.vip, mac: Self.h1, at: Self.second)
        checker.recordTrace(through: Self.second * 2)
        checker.check()
        #expect(checker.checked == 1)
        #expect(checker.wrong == 0, "\(checker.examples)")
    }

    @Test("a reply waits for a poll after its window; finish judges the rest")
    func judgedWhenWindowCloses() {
        var checker = SoakReplyChecker(grace: Self.grace)
        checker.record(Self.snapshot(0, Self.h0))
        checker.record(Self.snapshot(Self.second, Self.h0))
        checker.add([SoakReply(at: Self.second - Self.grace / 2, vip: Self.vip, mac: Self.h1)])
        checker.check()
        #expect(checker.checked == 0)
        #expect(checker.unjudged == 1)
        checker.finish()
        #expect(checker.checked == 1)
        #expect(checker.wrong == 1)
    }

    @Test("stuck: not active in every poll for longer than the bound; active again resets")
    func stuckVIPs() {
        var tracker = SoakStuckTracker(bound: 10 * Self.second)
        let other = IPv4Address(198, 18, 0, 101)
        #expect(tracker.observe(at: 0, states: [Self.vip: "pending", other: "broadcast"]).isEmpty)
        #expect(tracker.observe(at: 5 * Self.second, states: [Self.vip: "pending", other: "active"]).isEmpty)
        #expect(tracker.observe(at: 9 * Self.second, states: [Self.vip: "enqueued", other: "pending"]).isEmpty)
        #expect(tracker.observe(at: 11 * Self.second, states: [Self.vip: "pending", other: "pending"]) == [Self.vip])
        #expect(tracker.observe(at: 12 * Self.second, states: [Self.vip: "withdrawn", other: "pending"]).isEmpty)
        #expect(tracker.everStuck.keys.sorted() == [Self.vip])
        #expect(tracker.everStuck[Self.vip] == 11 * Self.second)
    }

    @Test("the judge fails a run with a wrong reply, a stuck VIP, an fd leak or RSS growth, and passes a clean one")
    func judge() {
        func sample(_ t: Double, rss: Int, fds: Int, fill: Int) -> SoakSample {
            SoakSample(
                elapsedSeconds: t, residentKiB: rss, fileDescriptors: fds, threads: 11, traceFill: fill, traceCapacity: 100,
                vipsByState: ["active": 10], requestsPerSecond: 1000, repliesPerSecond: 1000, wrongReplies: 0, stuckVIPs: 0,
                flaps: 1, reloads: 1)
        }
        var clean = SoakReport(
            daemon: "d", plannedSeconds: 90, offeredRate: 1000, vipsA: 10, vipsB: 10, vipsAsked: 10, adapters: ["h0"],
            blockPrefixLength: 26, graceMilliseconds: 500, stuckAfterSeconds: 10)
        clean.samples = [sample(30, rss: 50_000, fds: 29, fill: 50), sample(60, rss: 51_000, fds: 30, fill: 100), sample(90, rss: 52_000, fds: 29, fill: 100)]
        clean.repliesHeard = 1000
        clean.repliesChecked = 1000
        clean.daemonAlive = true
        clean.traceFollowerAlive = true
        clean.criteria = SoakJudge.criteria(clean)
        #expect(clean.passed)
        #expect(clean.criteria.allSatisfy { $0.met == true })

        var wrong = clean
        wrong.wrongReplies = 1
        #expect(!SoakJudge.criteria(wrong).contains { $0.name == "0 wrong replies" && $0.met == true })
        var unchecked = clean
        unchecked.repliesUnchecked = 1
        #expect(SoakJudge.criteria(unchecked).contains { $0.name == "0 wrong replies" && $0.met == false })
        var stuck = clean
        stuck.stuckVIPs = ["198.18.0.100": 12]
        #expect(SoakJudge.criteria(stuck).contains { $0.name == "0 VIPs stuck" && $0.met == false })
        var leak = clean
        leak.samples[2].fileDescriptors = 30
        #expect(SoakJudge.criteria(leak).contains { $0.name == "file descriptors flat" && $0.met == false })
        var threads = clean
        threads.samples[2].threadsPeak = 12
        #expect(SoakJudge.criteria(threads).contains { $0.name == SoakJudge.threadsName && $0.met == false })
        var growth = clean
        growth.samples[2].residentKiB = 54_000  // 5.9 % over the 51,000 KiB at ring full
        #expect(SoakJudge.criteria(growth).contains { $0.name.hasPrefix("RSS growth") && $0.met == false })
        var notFull = clean
        notFull.samples[1].traceFill = 99
        notFull.samples[2].traceFill = 99
        #expect(SoakJudge.criteria(notFull).contains { $0.name.hasPrefix("RSS growth") && $0.met == nil })
    }
}
