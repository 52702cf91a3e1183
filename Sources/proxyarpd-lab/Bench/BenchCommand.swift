import ArgumentParser
import Foundation
import ProxyARPCore
import ProxyARPIO
import ProxyARPTestSupport

/// `proxyarpd-lab bench`: the netns flood runner of ARCHITECTURE.md §9. Builds its own lab
/// (unique prefix, 198.18.0.0/15 only, always removed), runs the daemon given by
/// `--daemon` (default: the `proxyarpd` next to this executable; measure a release build) and reports:
///
/// - the ceiling: the generator alone, asking for an address nobody serves (same topology);
/// - the highest loss-free ARP reply rate for a VIP answered by proxyarpd (1 VIP and a
///   large table) and, in the same run and topology, for the host adapter's own address
///   answered by the kernel (daemon stopped), each as a fraction of the ceiling, plus an
///   unpaced step per responder. Loss-free means every request the generator sent got its
///   reply (0 loss, no tolerance). The generator is `proxyarpd-lab flood` in the client
///   namespace (PACKET_MMAP TX ring, qdisc bypass, pinned to CPU 0; replies counted with
///   recvmmsg on another thread);
/// - the marginal machine CPU per answered request: the machine's busy CPU with the
///   responder minus that of the ceiling row at the same offered rate, per reply, at the
///   fixed rate (50,000/s) and at the highest loss-free step; what limits each ladder;
/// - carrier loss → first gratuitous ARP from the new agent, seen by tcpdump on the client;
/// - activation time: from the daemon's start to its N-th `VIP active` log line, with
///   per-VIP kernel rules (blocks /32) and with blocks (`--block-prefix-length`);
/// - the rate and the daemon's VmRSS with a large VIP table (in blocks);
/// - in the same run and lab (`--families`, default both), the NDP ladder: Neighbor
///   Solicitations (to the solicited-node group, source link-layer option, hop limit 255,
///   valid checksum) from the same TX-ring generator, for an IPv6 address nobody serves
///   (the NDP ceiling), h0's own IPv6 address (the kernel) and an IPv6 VIP (proxyarpd), in
///   the same table format; replies counted are solicited advertisements from the
///   expected MAC.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure reply rate, failover and activation in a throwaway netns lab (needs root)."
    )

    @Option(help: "The daemon executable to measure (default: the proxyarpd next to this executable).") var daemon: String?
    @Flag(help: "CI smoke run: under a minute, fewer steps and events, 1,000 VIPs.") var quick = false
    @Flag(help: "Print the results as JSON.") var json = false
    @Option(help: "Seconds per rate step (default 3, quick 1).") var stepSeconds: Double?
    @Option(help: "Offered paced rates, comma-separated requests/s, lowest first (default 50k..400k; quick 25k,50k); an unpaced step always follows.") var rates: String?
    @Option(help: "Carrier-loss events (default 50, quick 5).") var failoverEvents: Int?
    @Option(name: .customLong("large-vips"), help: "VIPs for the large-table run (default 100000, quick 1000).") var largeVIPs: Int?
    @Option(help: "selection.block_prefix_length of the large-table run (and a second 10,000-VIP activation), 24...32.")
    var blockPrefixLength = 26
    @Flag(help: "Rates only: skip the failover events and the activation runs.") var ratesOnly = false
    @Flag(help: "Keep the temporary directory (configs, daemon logs, captures).") var keepFiles = false
    @Option(help: "io.fast_path of the measured daemons: pcap (default) or xdp (the lab's bridge ports get an XDP_PASS program).")
    var fastPath = "pcap"
    @Option(help: "Families measured, comma-separated: arp (ARP ladders, failover, activation), ndp (NDP ladders). Default arp,ndp.")
    var families = "arp,ndp"
    @Option(name: .customLong("large-ipv6-vips"), help: "IPv6 VIPs of a large-table NDP ladder (default 0: skipped).")
    var largeIPv6VIPs = 0
    @Option(help: "io.capture_filter of the measured daemons: narrow (default) or arp (every ARP frame, as before narrowing).")
    var captureFilter = "narrow"
    @Option(help: "io.arp_guard of the measured daemons: true (the daemon's default as root: a tc rule keeps VIP requests away from the kernel's ARP code) or false.")
    var arpGuard = true

    func run() async throws {
        guard getuid() == 0 else { throw ValidationError("the bench builds network namespaces: run it as root") }
        guard SelectionConfiguration.blockPrefixLengths.contains(blockPrefixLength) else {
            throw ValidationError("--block-prefix-length: \(SelectionConfiguration.blockPrefixLengths)")
        }
        let binary = try Executables.daemon(daemon)
        let flood = try Executables.lab()
        let directory = NSTemporaryDirectory() + "proxyarpd-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var plan = BenchPlan(
            quick: quick,
            stepSeconds: stepSeconds ?? (quick ? 1 : 3),
            rates: try rates.map(Self.parseRates) ?? (quick ? [25_000, 50_000] : [50_000, 100_000, 150_000, 200_000, 250_000, 300_000, 350_000, 400_000]),
            failoverEvents: ratesOnly ? 0 : failoverEvents ?? (quick ? 5 : 50),
            activations: ratesOnly ? [] : quick ? [(1_000, 32)] : [(1_000, 32), (10_000, 32), (10_000, blockPrefixLength)],
            largeVIPs: largeVIPs ?? (quick ? 1_000 : 100_000),
            largeBlockPrefixLength: blockPrefixLength
        )
        guard ["pcap", "xdp"].contains(fastPath) else { throw ValidationError("--fast-path: pcap or xdp") }
        plan.families = try Self.parseFamilies(families)
        guard (0...(1 << 20)).contains(largeIPv6VIPs) else { throw ValidationError("--large-ipv6-vips: 0 to 1048576") }
        plan.largeIPv6VIPs = largeIPv6VIPs
        var runner = BenchRunner(daemon: binary, flood: flood, directory: directory, plan: plan)
        guard CaptureFilterMode(rawValue: captureFilter) != nil else { throw ValidationError("--capture-filter: narrow or arp") }
        runner.fastPath = fastPath
        runner.io = "io:\n  fast_path: \(fastPath)\n  capture_filter: \(captureFilter)\n  arp_guard: \(arpGuard)\n"
        let report = try await InterruptibleScript.run(directory: directory, keepFiles: keepFiles) { [runner] in try await runner.run() }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.table)
        }
    }

    static func parseFamilies(_ text: String) throws -> Set<BenchFamily> {
        let words = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let families = words.compactMap(BenchFamily.init(rawValue:))
        guard !families.isEmpty, families.count == words.count else { throw ValidationError("--families: arp, ndp or arp,ndp") }
        return Set(families)
    }

    static func parseRates(_ text: String) throws -> [Int] {
        let values = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.map { word -> Int? in
            word.hasSuffix("k") ? Int(word.dropLast()).map { $0 * 1_000 } : Int(word)
        }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else { throw ValidationError("--rates: positive integers, e.g. 25k,50k,100000") }
        return values.map { $0! }
    }
}
