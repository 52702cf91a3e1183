import Foundation

/// The results of `proxyarpd-lab bench`.
struct BenchReport: Codable, Sendable {
    struct Step: Codable, Sendable {
        /// Offered requests/s; 0 for the unpaced step (as fast as the generator's core sends).
        var offered: Int
        var sentPerSecond: Double
        var sent: UInt64
        var replies: UInt64
        var lossPercent: Double
        var generatorLimited: Bool
        /// Replies the client's receiving socket dropped (a loss of the client, not the responder).
        var receiverDrops: UInt64 = 0
        /// Busy CPU of the whole machine (generator, bridge, responder, client) over the
        /// sending window, in CPUs (1.0 = one core busy).
        var machineBusyCPUs: Double?
        /// Busy CPU time of the whole machine per request sent.
        var machineMicrosecondsPerRequest: Double?
        /// CPU time of the daemon (all threads) per reply; nil for the kernel.
        var daemonMicrosecondsPerReply: Double?
        /// The daemon's CPU over the step in CPUs (its CPU seconds / the sending window).
        var daemonCPUs: Double?
    }
    struct Ladder: Codable, Sendable {
        var what: String
        var target: String
        /// The paced steps, lowest offer first.
        var steps: [Step]
        /// The unpaced step: the responder's rate when the generator sends as fast as it can.
        var maximum: Step?
        /// The highest rate actually sent (requests/s) in a step whose every request was
        /// answered; nil when none (nobody-answers ladder: the highest rate sent).
        var highestLossFree: Int?
        /// True when the generator could not reach the next offered rate (the result is a lower bound).
        var limitedByGenerator: Bool
        /// What ended the ladder: the generator's core, loss, the client's receive buffer,
        /// or the last offered rate.
        var limit: String = ""
        /// Marginal machine CPU per answered request against the nobody-answers ladder at
        /// the same offered rate: at the fixed offer (50,000/s) and at the highest loss-free step.
        var marginalMicrosecondsAtFixedRate: Double?
        var marginalMicrosecondsAtLossFree: Double?
        /// The offered rate `marginalMicrosecondsAtLossFree` was measured at.
        var marginalLossFreeOffered: Int?

        /// The paced step at `offered`, if the ladder reached it.
        func step(offered rate: Int) -> Step? { steps.first { $0.offered == rate } }

        /// The highest paced step every request of which was answered.
        var highestLossFreeStep: Step? { steps.last { $0.lossPercent == 0 && $0.sent > 0 } }
    }
    struct Failover: Codable, Sendable {
        var events: Int
        var measured: Int
        var p50Milliseconds: Double?
        var p99Milliseconds: Double?
        var maxMilliseconds: Double?
        /// How long the `ip link set ... down` command took (included in the latency):
        /// how much of each latency the timestamp may precede the real carrier loss by.
        var cutCommandP50Milliseconds: Double?
    }
    struct Activation: Codable, Sendable {
        var vips: Int
        /// `selection.block_prefix_length` of the run.
        var blockPrefixLength: Int
        var active: Int
        var seconds: Double?
    }
    struct Scale: Codable, Sendable {
        var vips: Int
        var blockPrefixLength: Int
        var active: Int
        var rssMiB: Double?
        var ladder: Ladder?
    }

    var machine: String
    var daemon: String
    var quick: Bool
    /// The load average (1, 5, 15 min) when the run started and when it ended.
    var loadAtStart: String = ""
    var loadAtEnd: String = ""
    /// The offered rate the marginal CPU is compared at.
    var fixedRate: Int = 50_000
    /// The generator alone: requests for an address nobody serves, same topology.
    var ceiling: Ladder?
    var proxyarpd: Ladder?
    var kernel: Ladder?
    var ratio: Double?
    var failover: Failover?
    var activations: [Activation] = []
    var scale: Scale?
    var rssOneVIPMiB: Double?

    /// Fills each responder ladder's marginal CPU per answered request against `ceiling`.
    mutating func computeMarginals() {
        guard let ceiling else { return }
        func marginal(_ step: Step?, _ base: Step?) -> Double? {
            guard let step, let base, let busy = step.machineBusyCPUs, let idle = base.machineBusyCPUs, step.replies > 0 else { return nil }
            let replyRate = Double(step.replies) / (Double(step.sent) / max(step.sentPerSecond, 1e-9))
            return (busy - idle) * 1e6 / replyRate
        }
        func fill(_ ladder: inout Ladder?) {
            guard var value = ladder else { return }
            value.marginalMicrosecondsAtFixedRate = marginal(value.step(offered: fixedRate), ceiling.step(offered: fixedRate))
            if let top = value.highestLossFreeStep, let base = ceiling.step(offered: top.offered) {
                value.marginalMicrosecondsAtLossFree = marginal(top, base)
                value.marginalLossFreeOffered = top.offered
            }
            ladder = value
        }
        fill(&proxyarpd)
        fill(&kernel)
        if var large = scale {
            fill(&large.ladder)
            scale = large
        }
    }

    var table: String {
        func rate(_ value: Int?) -> String { value.map { "\($0 / 1000)k/s" } ?? "none" }
        func ms(_ value: Double?) -> String { value.map { String(format: "%.2f ms", $0) } ?? "-" }
        func us(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "-" }
        var lines = ["proxyarpd-lab bench\(quick ? " --quick" : "")", "machine: \(machine)", "daemon:  \(daemon)",
                     "load average: \(loadAtStart) at start, \(loadAtEnd) at end", ""]
        let ladders = [ceiling, kernel, proxyarpd, scale?.ladder].compactMap { $0 }
        let top = ceiling?.maximum?.sentPerSecond ?? ceiling?.highestLossFree.map(Double.init)
        lines.append("summary (generator: PACKET_MMAP TX ring, qdisc bypass, pinned to CPU 0; loss-free = every request sent in a paced step answered)")
        lines.append(String(format: "  %-30@ %-13@ %9@ %7@ %22@ %16@ %16@ %10@  %@", "responder" as NSString, "target" as NSString,
                            "loss-free" as NSString, "×ceil" as NSString, "unpaced: sent/answered" as NSString,
                            "marg µs/req@\(fixedRate / 1000)k" as NSString, "marg µs@loss-free" as NSString,
                            "daemon µs" as NSString, "limited by" as NSString))
        for ladder in ladders {
            let isCeiling = ladder.what == ceiling?.what
            let fraction = top.flatMap { t in ladder.highestLossFree.map { String(format: "%.2f", Double($0) / t) } } ?? "-"
            let maximum = ladder.maximum.map { step in
                isCeiling ? String(format: "%.0fk/-", step.sentPerSecond / 1000)
                    : String(format: "%.0fk/%.0fk", step.sentPerSecond / 1000, step.sentPerSecond * (100 - step.lossPercent) / 100_000)
            } ?? "-"
            let lossFreeMarginal = ladder.marginalMicrosecondsAtLossFree.map { String(format: "%.2f@%dk", $0, (ladder.marginalLossFreeOffered ?? 0) / 1000) } ?? "-"
            let daemon = ladder.highestLossFreeStep?.daemonMicrosecondsPerReply
            lines.append(String(format: "  %-30@ %-13@ %9@ %7@ %22@ %16@ %16@ %10@  %@", ladder.what as NSString, ladder.target as NSString,
                                (isCeiling ? "(\(rate(ladder.highestLossFree)))" : rate(ladder.highestLossFree)) as NSString,
                                fraction as NSString, maximum as NSString,
                                us(ladder.marginalMicrosecondsAtFixedRate) as NSString, lossFreeMarginal as NSString,
                                us(daemon) as NSString, ladder.limit as NSString))
        }
        lines.append("")
        lines.append("steps (offered 0 = unpaced; busy = machine busy CPUs over the sending window)")
        for ladder in ladders {
            lines.append("  \(ladder.what) (\(ladder.target))")
            for step in ladder.steps + (ladder.maximum.map { [$0] } ?? []) {
                let busy = step.machineBusyCPUs.map { String(format: "  busy %.2f CPUs", $0) } ?? ""
                let daemon = step.daemonMicrosecondsPerReply.map { String(format: "  daemon %.2f µs/reply (%.0f %% of a core)", $0, 100 * (step.daemonCPUs ?? 0)) } ?? ""
                let drops = step.receiverDrops > 0 ? "  client dropped \(step.receiverDrops)" : ""
                lines.append(String(format: "      offered %7d/s  sent %9.0f/s  replies %9llu/%-9llu loss %6.3f%%%@%@%@%@",
                                    step.offered, step.sentPerSecond, step.replies, step.sent, step.lossPercent,
                                    busy as NSString, daemon as NSString, drops as NSString,
                                    (step.generatorLimited ? "  generator-limited" : "") as NSString))
            }
        }
        if let ratio { lines.append(String(format: "  proxyarpd / kernel: %.2fx", ratio)) }
        if let failover {
            lines.append("")
            lines.append("failover: carrier loss -> first gratuitous ARP from the new agent (tcpdump on the client)")
            lines.append("  events \(failover.measured)/\(failover.events)  p50 \(ms(failover.p50Milliseconds))  p99 \(ms(failover.p99Milliseconds))  max \(ms(failover.maxMilliseconds))  (upper bound: timed from the start of `ip link set down`, whose own run took p50 \(ms(failover.cutCommandP50Milliseconds)))")
        }
        if !activations.isEmpty {
            lines.append("")
            lines.append("activation: daemon start -> \"VIPs activated\" log line with total=N")
            for activation in activations {
                lines.append("  \(activation.vips) VIPs, blocks /\(activation.blockPrefixLength): \(activation.seconds.map { String(format: "%.2f s", $0) } ?? "not all active") (\(activation.active) active)")
            }
        }
        if let scale {
            lines.append("")
            lines.append("scale: \(scale.vips) VIPs, blocks /\(scale.blockPrefixLength) (\(scale.active) active): VmRSS \(scale.rssMiB.map { String(format: "%.1f MiB", $0) } ?? "-")  (1 VIP: \(rssOneVIPMiB.map { String(format: "%.1f MiB", $0) } ?? "-"))")
            if let big = scale.ladder?.highestLossFree, let one = proxyarpd?.highestLossFree {
                lines.append(String(format: "  rate at %d VIPs / at 1 VIP: %.2f (loss-free)", scale.vips, Double(big) / Double(one)))
            }
            if let big = scale.ladder?.maximum, let one = proxyarpd?.maximum, one.replies > 0 {
                lines.append(String(format: "  unpaced answered rate at %d VIPs / at 1 VIP: %.2f", scale.vips,
                                    big.sentPerSecond * (100 - big.lossPercent) / (one.sentPerSecond * (100 - one.lossPercent))))
            }
        }
        return lines.joined(separator: "\n")
    }
}
