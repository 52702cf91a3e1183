import Foundation

/// The results of `proxyarpd-lab bench`.
struct BenchReport: Codable, Sendable {
    struct Step: Codable, Sendable {
        var offered: Int
        var sentPerSecond: Double
        var sent: UInt64
        var replies: UInt64
        var lossPercent: Double
        var generatorLimited: Bool
        /// Busy CPU time of the whole machine (generator, bridge, responder) per request sent.
        var machineMicrosecondsPerRequest: Double?
        /// CPU time of the daemon (all threads) per reply; nil for the kernel.
        var daemonMicrosecondsPerReply: Double?
    }
    struct Ladder: Codable, Sendable {
        var what: String
        var target: String
        var steps: [Step]
        /// The highest rate actually sent (requests/s) in a step whose every request was
        /// answered; nil when none.
        var highestLossFree: Int?
        /// True when the generator could not reach the next offered rate (the result is a lower bound).
        var limitedByGenerator: Bool
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
    var proxyarpd: Ladder?
    var kernel: Ladder?
    var ratio: Double?
    var failover: Failover?
    var activations: [Activation] = []
    var scale: Scale?
    var rssOneVIPMiB: Double?

    var table: String {
        func rate(_ value: Int?) -> String { value.map { "\($0 / 1000)k/s" } ?? "none" }
        func ms(_ value: Double?) -> String { value.map { String(format: "%.2f ms", $0) } ?? "-" }
        var lines = ["proxyarpd-lab bench\(quick ? " --quick" : "")", "machine: \(machine)", "daemon:  \(daemon)", ""]
        lines.append("reply rate, 0 loss (highest rate sent in a step every request of which was answered)")
        for ladder in [proxyarpd, kernel, scale?.ladder].compactMap({ $0 }) {
            lines.append(String(format: "  %-34@ %-14@ %@%@", ladder.what as NSString, ladder.target as NSString,
                                rate(ladder.highestLossFree) as NSString, (ladder.limitedByGenerator ? " (generator limit)" : "") as NSString))
            for step in ladder.steps {
                let machine = step.machineMicrosecondsPerRequest.map { String(format: "  machine %.2f µs/req", $0) } ?? ""
                let daemon = step.daemonMicrosecondsPerReply.map { String(format: "  daemon %.2f µs/reply", $0) } ?? ""
                lines.append(String(format: "      offered %7d/s  sent %9.0f/s  replies %9llu/%-9llu loss %6.3f%%%@%@%@",
                                    step.offered, step.sentPerSecond, step.replies, step.sent, step.lossPercent,
                                    machine as NSString, daemon as NSString,
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
                lines.append(String(format: "  rate at %d VIPs / at 1 VIP: %.2f", scale.vips, Double(big) / Double(one)))
            }
        }
        return lines.joined(separator: "\n")
    }
}
