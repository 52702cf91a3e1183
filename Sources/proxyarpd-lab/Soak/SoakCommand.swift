import ArgumentParser
import Foundation
import ProxyARPTestSupport

/// `proxyarpd-lab soak`: issue 11's endurance run. Builds its own lab (four adapters on
/// one bridge and a client, 198.18.0.0/15 only, always removed), runs the daemon given by
/// `--daemon` (default: the `proxyarpd` next to this executable) with 356 VIPs (four /26
/// blocks and single addresses), and for `--minutes` keeps going at once:
///
/// - ARP requests at `--rate` (default 20,000/s) spread over every VIP of both
///   configurations, every reply checked against the daemon's status (``SoakReplyChecker``
///   defines a wrong reply);
/// - a carrier flap every `--flap-every` seconds, the adapters in turn;
/// - a SIGHUP every `--reload-every` seconds, the configuration alternating between two
///   that differ by 4 VIPs each way;
/// - `proxyarpd status` and `status --all --json` clients, a `trace --follow` client, and a
///   SIGUSR1 dump every `--dump-every` seconds;
///
/// with a report line every `--report-every` seconds (VmRSS, fds, threads, trace ring fill,
/// VIPs by state, requests and replies per second, wrong replies, stuck VIPs). At the end
/// it judges the run (``SoakJudge``) and exits non-zero when a criterion failed.
struct SoakCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Run the daemon under load, flaps, reloads and clients for N minutes and judge leaks and answers (needs root)."
    )

    @Option(help: "The daemon executable (default: the proxyarpd next to this executable).") var daemon: String?
    @Option(help: "Minutes of load.") var minutes: Double?
    @Option(help: "Seconds of load (instead of --minutes; for short runs).") var seconds: Double?
    @Option(help: "ARP requests per second, spread over the VIPs.") var rate = 20_000
    @Option(help: "Seconds between the starts of two carrier flaps.") var flapEvery = 4.0
    @Option(help: "Seconds a flapped adapter stays without carrier.") var flapPause = 1.0
    @Option(help: "Seconds between SIGHUPs.") var reloadEvery = 10.0
    @Option(help: "Seconds between report lines.") var reportEvery = 30.0
    @Option(help: "Seconds between SIGUSR1 dumps.") var dumpEvery = 120.0
    @Option(help: "Milliseconds of allowance around a reply when judging its MAC (see the README's Soak section).") var graceMilliseconds = 500
    @Option(help: "Seconds a VIP may be seen not active before it counts as stuck.") var stuckAfter = 10.0
    @Option(help: "selection.block_prefix_length, 24...32.") var blockPrefixLength = 26
    @Option(help: "timers.hold_down (doubled per failure within 60 s, up to x16). Above --flap-every x 4 adapters / 16 every adapter ends up held down and the VIPs are served by last resorts (see the README).")
    var holdDown = "500ms"
    @Flag(help: "Print the report as JSON (report lines go to standard error).") var json = false
    @Flag(help: "Keep the temporary directory (configs, daemon log, trace, dumps).") var keepFiles = false

    func validate() throws {
        guard (minutes == nil) != (seconds == nil) else { throw ValidationError("give --minutes or --seconds") }
        guard let duration = seconds ?? minutes.map({ $0 * 60 }), duration > 0 else { throw ValidationError("the duration must be positive") }
        guard rate > 0, flapEvery > flapPause, flapPause > 0, reloadEvery > 0, reportEvery > 0, dumpEvery > 0, stuckAfter > 0 else {
            throw ValidationError("rates, intervals and bounds must be positive, and --flap-every longer than --flap-pause")
        }
        guard (24...32).contains(blockPrefixLength) else { throw ValidationError("--block-prefix-length: 24...32") }
        _ = duration
    }

    func run() async throws {
        guard getuid() == 0 else { throw ValidationError("the soak builds network namespaces: run it as root") }
        let binary = try Executables.daemon(daemon)
        let directory = NSTemporaryDirectory() + "proxyarpd-soak-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let plan = SoakPlan(
            seconds: seconds ?? (minutes ?? 0) * 60, rate: rate, flapEvery: flapEvery, flapPause: flapPause, reloadEvery: reloadEvery,
            reportEvery: reportEvery, statusEvery: 5, pollEvery: 0.25, dumpEvery: dumpEvery, graceMilliseconds: graceMilliseconds,
            stuckAfter: stuckAfter, blockPrefixLength: blockPrefixLength, holdDown: holdDown)
        let json = self.json
        let runner = SoakRunner(daemon: binary, directory: directory, plan: plan) { line in
            if json { FileHandle.standardError.write(Data("\(line)\n".utf8)) } else { FileHandle.standardOutput.write(Data("\(line)\n".utf8)) }
        }
        let report = try await InterruptibleScript.run(directory: directory, keepFiles: keepFiles) { try await runner.run() }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(Self.summary(report))
        }
        if !report.passed { throw ExitCode(1) }
    }

    static func summary(_ report: SoakReport) -> String {
        func load(_ values: [Double]) -> String { values.map { SoakSample.format($0, 2) }.joined(separator: " ") }
        var lines = [
            "",
            "soak summary: \(SoakSample.format(report.plannedSeconds / 60, 1)) min, \(report.vipsA)/\(report.vipsB) VIPs (configs A/B, \(report.vipsAsked) asked for), adapters \(report.adapters.joined(separator: ",")), blocks /\(report.blockPrefixLength), hold_down \(report.holdDown)",
            "  requests sent \(report.requestsSent), replies heard \(report.repliesHeard), checked \(report.repliesChecked), wrong \(report.wrongReplies), unchecked \(report.repliesUnchecked)",
            "  flaps \(report.flaps), reloads \(report.reloads), status polls \(report.statusPolls), status calls \(report.statusCalls), failures \(report.statusFailures), dumps \(report.dumpsWritten)/\(report.dumpsRequested), trace --follow records \(report.traceFollowerRecords)",
            "  load average at start \(load(report.loadAverageStart)), at end \(load(report.loadAverageEnd))",
        ]
        for example in report.wrongExamples.prefix(5) { lines.append("  wrong reply: \(example.vip) from \(example.mac) at \(example.at): \(example.reason)") }
        for criterion in report.criteria {
            let verdict = criterion.met.map { $0 ? "PASS" : "FAIL" } ?? "NOT JUDGED"
            lines.append("  [\(verdict)] \(criterion.name): \(criterion.detail)")
        }
        lines.append(report.passed ? "soak: every judged criterion met" : "soak: FAILED")
        return lines.joined(separator: "\n")
    }
}
