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
        /// The lab's own CPU in CPUs: the generator process, the machine's irq and softirq
        /// time (veth, bridge, the kernel's ARP code), and the daemon. Unlike
        /// ``machineBusyCPUs`` it leaves out other processes (builds on a shared machine).
        var labCPUs: Double?
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
        /// The same from ``Step/labCPUs`` (generator + irq/softirq + daemon).
        var marginalLabMicrosecondsAtFixedRate: Double?
        var marginalLabMicrosecondsAtLossFree: Double?
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
        /// The same latencies timed from the kernel's cut (strace of `ip`), when strace is installed.
        var fromKernelCut: KernelTimed?

        /// Latencies from the kernel's cut.
        struct KernelTimed: Codable, Sendable {
            var measured: Int
            var p50Milliseconds: Double?
            var p99Milliseconds: Double?
            var maxMilliseconds: Double?
        }
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
    /// The NDP ladders (Neighbor Solicitations to the solicited-node group, solicited
    /// advertisements from the expected MAC counted), same lab, generator and run: the
    /// ceiling (an address nobody serves), the kernel (h0's own IPv6 address), proxyarpd
    /// with 1 IPv6 VIP, and a large IPv6 table (`--large-ipv6-vips`).
    var ndpCeiling: Ladder?
    var ndpKernel: Ladder?
    var ndpProxyarpd: Ladder?
    var ndpRatio: Double?
    var ndpScale: Scale?
    /// Seconds from the start of the large-IPv6-table daemon to its last activation.
    var ndpActivationSeconds: Double?
    /// Why the proxyarpd NDP ladders were not measured (the daemon never advertised its VIP).
    var ndpNotServed: String?

    /// Fills each responder ladder's marginal CPU per answered request against the ceiling
    /// ladder of its family.
    mutating func computeMarginals() {
        if let ceiling {
            Self.fill(&proxyarpd, against: ceiling, fixedRate: fixedRate)
            Self.fill(&kernel, against: ceiling, fixedRate: fixedRate)
            if var large = scale {
                Self.fill(&large.ladder, against: ceiling, fixedRate: fixedRate)
                scale = large
            }
        }
        if let ndpCeiling {
            Self.fill(&ndpProxyarpd, against: ndpCeiling, fixedRate: fixedRate)
            Self.fill(&ndpKernel, against: ndpCeiling, fixedRate: fixedRate)
            if var large = ndpScale {
                Self.fill(&large.ladder, against: ndpCeiling, fixedRate: fixedRate)
                ndpScale = large
            }
        }
    }

    private static func marginal(_ step: Step?, _ base: Step?, _ cpus: KeyPath<Step, Double?>) -> Double? {
        guard let step, let base, let busy = step[keyPath: cpus], let idle = base[keyPath: cpus], step.replies > 0 else { return nil }
        let replyRate = Double(step.replies) / (Double(step.sent) / max(step.sentPerSecond, 1e-9))
        return (busy - idle) * 1e6 / replyRate
    }

    private static func fill(_ ladder: inout Ladder?, against ceiling: Ladder, fixedRate: Int) {
        guard var value = ladder else { return }
        let fixed = (value.step(offered: fixedRate), ceiling.step(offered: fixedRate))
        value.marginalMicrosecondsAtFixedRate = marginal(fixed.0, fixed.1, \.machineBusyCPUs)
        value.marginalLabMicrosecondsAtFixedRate = marginal(fixed.0, fixed.1, \.labCPUs)
        if let top = value.highestLossFreeStep, let base = ceiling.step(offered: top.offered) {
            value.marginalMicrosecondsAtLossFree = marginal(top, base, \.machineBusyCPUs)
            value.marginalLabMicrosecondsAtLossFree = marginal(top, base, \.labCPUs)
            value.marginalLossFreeOffered = top.offered
        }
        ladder = value
    }

    /// `text` padded with spaces to `width` (left-aligned), or right-aligned when `right`.
    static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return right ? fill + text : text + fill
    }

    var table: String {
        func rate(_ value: Int?) -> String { value.map { "\($0 / 1000)k/s" } ?? "none" }
        func ms(_ value: Double?) -> String { value.map { String(format: "%.2f ms", $0) } ?? "-" }
        func us(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "-" }
        var lines = ["proxyarpd-lab bench\(quick ? " --quick" : "")", "machine: \(machine)", "daemon:  \(daemon)",
                     "load average: \(loadAtStart) at start, \(loadAtEnd) at end", ""]
        // Each row with the ceiling of its family (ARP rows against the ARP ceiling, NDP rows against the NDP one).
        let rows = ([ceiling, kernel, proxyarpd, scale?.ladder].compactMap { $0 }.map { ($0, ceiling) }
            + [ndpCeiling, ndpKernel, ndpProxyarpd, ndpScale?.ladder].compactMap { $0 }.map { ($0, ndpCeiling) })
        let ladders = rows.map { $0.0 }
        lines.append("summary (generator: PACKET_MMAP TX ring, qdisc bypass, pinned to CPU 0; loss-free = every request sent in a paced step answered;")
        lines.append("  ARP rows: broadcast requests, replies counted; NDP rows: solicitations to the solicited-node group (SLLA, hop limit 255),")
        lines.append("  solicited advertisements from the expected MAC counted; ×ceil and marginals against the ceiling row of the same family;")
        lines.append("  marginal = CPU with the responder minus the nobody-answers row at the same offered rate, per answered request, in µs:")
        lines.append("  machine = /proc/stat busy of all CPUs, niced time left out; lab = generator + irq/softirq + daemon, which leaves other processes out)")
        let widths = [32, 17, 10, 6, 15, 14, 14, 12, 12, 13]
        let header = ["responder", "target", "loss-free", "×ceil", "unpaced sent/ok", "marg machine", "@ loss-free", "marg lab", "@ loss-free",
                      "daemon µs/rep"]
        lines.append("  " + zip(header, widths).map { Self.pad($0, $1) }.joined(separator: " ") + " limited by")
        lines.append("  " + zip(header, widths).map { _, width in String(repeating: " ", count: width) }.enumerated()
            .map { $0.offset == 5 || $0.offset == 7 ? Self.pad("@\(fixedRate / 1000)k", widths[$0.offset]) : $0.element }.joined(separator: " "))
        for (ladder, familyCeiling) in rows {
            let isCeiling = ladder.what == familyCeiling?.what
            let top = familyCeiling?.maximum?.sentPerSecond ?? familyCeiling?.highestLossFree.map(Double.init)
            let fraction = top.flatMap { t in ladder.highestLossFree.map { String(format: "%.2f", Double($0) / t) } } ?? "-"
            let maximum = ladder.maximum.map { step in
                isCeiling ? String(format: "%.0fk/-", step.sentPerSecond / 1000)
                    : String(format: "%.0fk/%.0fk", step.sentPerSecond / 1000, step.sentPerSecond * (100 - step.lossPercent) / 100_000)
            } ?? "-"
            let at = ladder.marginalLossFreeOffered.map { " @\($0 / 1000)k" } ?? ""
            let lossFreeStep = ladder.highestLossFreeStep
            let daemon = lossFreeStep?.daemonMicrosecondsPerReply.map { String(format: "%.2f (%.0f%%)", $0, 100 * (lossFreeStep?.daemonCPUs ?? 0)) } ?? "-"
            let cells = [
                ladder.what, ladder.target, isCeiling ? "(\(rate(ladder.highestLossFree)))" : rate(ladder.highestLossFree), fraction, maximum,
                us(ladder.marginalMicrosecondsAtFixedRate), ladder.marginalMicrosecondsAtLossFree.map { us($0) + at } ?? "-",
                us(ladder.marginalLabMicrosecondsAtFixedRate), ladder.marginalLabMicrosecondsAtLossFree.map { us($0) + at } ?? "-", daemon,
            ]
            lines.append("  " + zip(cells, widths).map { Self.pad($0, $1) }.joined(separator: " ") + " " + ladder.limit)
        }
        lines.append("")
        lines.append("steps (offered 0 = unpaced; busy = machine busy CPUs over the sending window)")
        for ladder in ladders {
            lines.append("  \(ladder.what) (\(ladder.target))")
            for step in ladder.steps + (ladder.maximum.map { [$0] } ?? []) {
                let busy = step.machineBusyCPUs.map { String(format: "  busy %.2f CPUs", $0) } ?? ""
                let lab = step.labCPUs.map { String(format: " (lab %.2f)", $0) } ?? ""
                let daemon = step.daemonMicrosecondsPerReply.map { String(format: "  daemon %.2f µs/reply (%.0f %% of a core)", $0, 100 * (step.daemonCPUs ?? 0)) } ?? ""
                let drops = step.receiverDrops > 0 ? "  client dropped \(step.receiverDrops)" : ""
                lines.append(String(format: "      offered %7d/s  sent %9.0f/s  replies %9llu/%-9llu loss %7.3f%%%@%@%@%@",
                                    step.offered, step.sentPerSecond, step.replies, step.sent, step.lossPercent,
                                    (busy + lab) as NSString, daemon as NSString, drops as NSString,
                                    (step.generatorLimited ? "  generator-limited" : "") as NSString))
            }
        }
        if let ratio { lines.append(String(format: "  proxyarpd / kernel: %.2fx", ratio)) }
        if let ndpRatio { lines.append(String(format: "  NDP: proxyarpd / kernel: %.2fx", ndpRatio)) }
        if let ndpNotServed { lines.append("  NDP: proxyarpd not measured: \(ndpNotServed)") }
        if let failover {
            lines.append("")
            lines.append("failover: carrier loss -> first gratuitous ARP from the new agent (tcpdump on the client)")
            lines.append("  events \(failover.measured)/\(failover.events)  p50 \(ms(failover.p50Milliseconds))  p99 \(ms(failover.p99Milliseconds))  max \(ms(failover.maxMilliseconds))  (upper bound: timed from the start of `ip link set down`, whose own run took p50 \(ms(failover.cutCommandP50Milliseconds)))")
            if let kernel = failover.fromKernelCut {
                lines.append("  from the kernel's cut (strace of ip, RTM_NEWLINK sendmsg start): events \(kernel.measured)  p50 \(ms(kernel.p50Milliseconds))  p99 \(ms(kernel.p99Milliseconds))  max \(ms(kernel.maxMilliseconds))")
            }
        }
        if !activations.isEmpty {
            lines.append("")
            lines.append("activation: daemon start -> \"VIPs activated\" log line with total=N")
            for activation in activations {
                lines.append("  \(activation.vips) VIPs, blocks /\(activation.blockPrefixLength): \(activation.seconds.map { String(format: "%.2f s", $0) } ?? "not all active") (\(activation.active) active)")
            }
        }
        if let ndpScale {
            lines.append("")
            lines.append("NDP scale: \(ndpScale.vips) IPv6 VIPs (\(ndpScale.active) active after \(ndpActivationSeconds.map { String(format: "%.2f s", $0) } ?? "-")): VmRSS \(ndpScale.rssMiB.map { String(format: "%.1f MiB", $0) } ?? "-")")
            if let big = ndpScale.ladder?.highestLossFree, let one = ndpProxyarpd?.highestLossFree {
                lines.append(String(format: "  rate at %d IPv6 VIPs / at 1 IPv6 VIP: %.2f (loss-free)", ndpScale.vips, Double(big) / Double(one)))
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
