import ProxyARPActors
import ProxyARPCore
import ProxyARPTestSupport

/// What the soak's tasks tell each other: the checker, the stuck tracker and the counts,
/// behind one actor.
actor SoakLedger {
    private(set) var checker: SoakReplyChecker
    private(set) var stuck: SoakStuckTracker
    /// The latest status's VIPs by state word.
    private(set) var latestStates: [IPv4Address: String] = [:]
    /// VIPs stuck in the latest status.
    private(set) var stuckNow = 0
    private(set) var statusPolls = 0
    private(set) var statusCalls = 0
    private(set) var statusFailures = 0
    private(set) var failureExamples: [String] = []
    private(set) var flaps = 0
    private(set) var reloads = 0
    private(set) var dumpsRequested = 0

    init(graceNanoseconds: Int64, stuckAfterNanoseconds: Int64) {
        checker = SoakReplyChecker(grace: graceNanoseconds)
        stuck = SoakStuckTracker(bound: stuckAfterNanoseconds)
    }

    /// Takes one `status --all` reply.
    func observe(_ vips: [VIPStatus], at monotonicNanoseconds: Int64) {
        var agents: [IPv4Address: MACAddress] = [:]
        var states: [IPv4Address: String] = [:]
        for vip in vips {
            guard let address = vip.vip.ipv4 else { continue }  // the soak floods ARP only
            states[address] = vip.state
            if let mac = vip.agentMAC { agents[address] = mac }
        }
        checker.record(SoakAgentSnapshot(at: monotonicNanoseconds, agents: agents))
        stuckNow = stuck.observe(at: monotonicNanoseconds, states: states).count
        latestStates = states
        statusPolls += 1
        checker.check()
    }

    /// Adds agent selections from the daemon's trace.
    /// `readThrough`: the time of the latest trace record read so far.
    func selected(_ selections: [TraceFollowerTail.Selection], readThrough: Int64?) {
        for selection in selections { checker.recordSelection(of: selection.vip, mac: selection.mac, at: selection.at) }
        if let readThrough { checker.recordTrace(through: readThrough) }
    }

    /// Adds replies heard (in order).
    func add(_ replies: [SoakReply]) {
        checker.add(replies)
        checker.check()
    }

    /// Judges every reply left.
    func finish() { checker.finish() }

    func statusCalled() { statusCalls += 1 }
    func statusFailed(_ why: String) {
        statusFailures += 1
        if failureExamples.count < 5 { failureExamples.append(why) }
    }
    func flapped() { flaps += 1 }
    func reloaded() { reloads += 1 }
    func dumpRequested() { dumpsRequested += 1 }
}
