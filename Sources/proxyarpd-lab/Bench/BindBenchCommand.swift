import ArgumentParser
import Foundation
import ProxyARPCore
import ProxyARPIO
import ProxyARPTestSupport

/// `proxyarpd-lab bind-bench`: what binding VIPs' outbound paths costs (issue 11: VIPs
/// `enqueued` for seconds under load while their policy rules were installed one by one).
///
/// In a throwaway namespace with four veth adapters it binds `--vips` VIPs (blocks /32: one
/// rule each) to one adapter, then moves them all to another, the way a carrier flap does,
/// in two modes: one VIP per call (`bindOutboundPath`, the path every bind took before) and
/// in batches (`bindOutboundPaths`, what the daemon's leader thread now does with the binds
/// queued on it). Every run starts from no rule (`cleanup`), the modes alternate for
/// `--repeats` rounds, and each is reported with its wall time, time per VIP and netlink
/// round trips per VIP (the median round and every round), with the load average.
struct BindBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bind-bench",
        abstract: "Time binding and moving VIPs' policy rules, one per call vs batched (needs root)."
    )

    @Option(help: "VIPs per run (at most 4,000: one /20 rule section per 4,096).") var vips = 1000
    @Option(help: "VIPs per batch in the batched mode (default: all of them).") var batch: Int?
    @Option(help: "Rounds; each runs both modes, alternating which goes first.") var repeats = 3

    /// One run's bind and move.
    private struct Run {
        var bind: (seconds: Double, requests: Int)
        var move: (seconds: Double, requests: Int)
    }

    func run() async throws {
        guard getuid() == 0 else { throw ValidationError("bind-bench needs root (network namespaces)") }
        guard (1...4000).contains(vips) else { throw ValidationError("--vips must be 1...4000") }
        let lab = try await LabNamespace.make("bnd")
        defer { lab.destroy() }
        for index in 0..<4 {
            try await lab.addVeth("b\(index)", peer: "p\(index)", address: "198.18.70.\(10 + index)/24")
        }
        _ = try await lab.ip("route", "add", "default", "via", "198.18.70.1", "dev", "b0")
        let host = try NetlinkHost(namespacePath: lab.path)
        let size = max(1, batch ?? vips)
        print("bind-bench: \(vips) VIPs, blocks /32, 4 adapters, \(repeats) rounds; load average \(Self.loadAverage())")

        let addresses = (0..<vips).map { IPAddress.v4(IPv4Address(198, 18, UInt8(80 + $0 / 256), UInt8($0 % 256))) }
        func single() throws -> Run {
            _ = try host.cleanup()
            let bind = try measure(host) { for vip in addresses { try host.bindOutboundPath(of: vip, to: "b0", replacing: nil) } }
            let move = try measure(host) { for vip in addresses { try host.bindOutboundPath(of: vip, to: "b1", replacing: "b0") } }
            return Run(bind: bind, move: move)
        }
        func batched() throws -> Run {
            _ = try host.cleanup()
            func all(_ agent: AdapterName, replacing: AdapterName?) throws {
                for start in stride(from: 0, to: addresses.count, by: size) {
                    let chunk = addresses[start..<min(start + size, addresses.count)]
                    let errors = host.bindOutboundPaths(chunk.map { OutboundPathBinding(vip: $0, agent: agent, replacing: replacing) })
                    if let error = errors.compactMap({ $0 }).first { throw error }
                }
            }
            let bind = try measure(host) { try all("b0", replacing: nil) }
            let move = try measure(host) { try all("b1", replacing: "b0") }
            return Run(bind: bind, move: move)
        }
        var singles: [Run] = []
        var batches: [Run] = []
        for round in 0..<max(1, repeats) {
            if round % 2 == 0 {
                singles.append(try single())
                batches.append(try batched())
            } else {
                batches.append(try batched())
                singles.append(try single())
            }
        }
        let rules = try await lab.ip("-4", "rule", "show").split(separator: "\n").filter { $0.contains("lookup") }.count
        report("one per call", singles)
        report("batches of \(size)", batches)
        print("  rules in the kernel after the last run: \(rules) (\(vips) VIP rules + guards); load average \(Self.loadAverage())")
        _ = try host.cleanup()
    }

    /// Wall time and netlink requests of `body`.
    private func measure(_ host: NetlinkHost, _ body: () throws -> Void) throws -> (seconds: Double, requests: Int) {
        let requests = host.netlinkRequests
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, host.netlinkRequests - requests)
    }

    private func report(_ name: String, _ runs: [Run]) {
        func line(_ what: String, _ values: [(seconds: Double, requests: Int)]) -> String {
            let sorted = values.sorted { $0.seconds < $1.seconds }
            let median = sorted[sorted.count / 2]
            let all = values.map { String(format: "%.3f", $0.seconds) }.joined(separator: ", ")
            return String(format: "    %@ %5d VIPs: median %7.3f s, %7.1f µs per VIP, %4.1f netlink round trips per VIP (rounds: %@ s)",
                          what, vips, median.seconds, median.seconds * 1e6 / Double(vips), Double(median.requests) / Double(vips), all)
        }
        print("  \(name):")
        print(line("bind", runs.map(\.bind)))
        print(line("move", runs.map(\.move)))
    }

    private static func loadAverage() -> String {
        ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "").split(separator: " ").prefix(3).joined(separator: " ")
    }
}
