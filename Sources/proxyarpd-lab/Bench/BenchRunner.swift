import Foundation
import ProxyARPCore
import ProxyARPIO
import ProxyARPTestSupport

/// Runs the bench's phases against one lab, which it always removes.
struct BenchRunner: Sendable {
    let daemon: String
    let flood: String
    let directory: String
    let plan: BenchPlan

    static let vip = IPv4Address(198, 18, 0, 100)

    func progress(_ text: String) {
        FileHandle.standardError.write(Data("\u{1B}[2K\r[bench] \(text)".utf8))
    }

    func run() async throws -> BenchReport {
        let started = Date()
        progress("building lab")
        let lab = try await HostLab.build(prefix: NetnsLab.uniquePrefix("pab"))
        var running: LabProcess?
        do {
            let report = try await phases(lab) { running = $0 }
            if let running, running.isRunning { await running.stop() }
            lab.destroy()
            FileHandle.standardError.write(Data(String(format: "\u{1B}[2K\r[bench] done in %.0f s\n", Date().timeIntervalSince(started)).utf8))
            return report
        } catch {
            if let running, running.isRunning { await running.stop() }
            lab.destroy()
            FileHandle.standardError.write(Data("\n".utf8))
            throw error
        }
    }

    private func phases(_ lab: HostLab, track: (LabProcess?) -> Void) async throws -> BenchReport {
        var report = BenchReport(machine: Self.machine(), daemon: daemon, quick: plan.quick)
        // Only the adapter that owns an address answers for it (as the daemon configures it).
        try await lab.lab.exec(lab.host, "sysctl", ["-qw", "net.ipv4.conf.all.arp_ignore=1"])
        try await lab.lab.exec(lab.client, "sysctl", ["-qw", "net.core.rmem_max=67108864"])

        // 1. One VIP: rate and failover.
        progress("daemon with 1 VIP: starting")
        let one = try await startDaemon(lab, name: "one", vips: [Self.vip.description], timers: ["hold_down": "0"])  // no flap damping: 50 back-to-back link cycles measure failover, not hold-down
        track(one)
        _ = try await waitActive(one, count: 1, timeout: .seconds(30))
        report.rssOneVIPMiB = Self.residentMiB(one)
        report.proxyarpd = try await ladder(lab, what: "proxyarpd (VIP, 1 VIP)", target: Self.vip, daemon: one)
        report.failover = try await failover(lab, events: plan.failoverEvents)
        await one.stop()
        track(nil)

        // 2. The kernel, same topology, daemon stopped: the host adapter's own address.
        let own = lab.adapters[0].address.address
        report.kernel = try await ladder(lab, what: "kernel (h0's own address)", target: own)
        if let a = report.proxyarpd?.highestLossFree, let b = report.kernel?.highestLossFree, b > 0 {
            report.ratio = Double(a) / Double(b)
        }

        // 3. Activation time.
        for run in plan.activations where run != (plan.largeVIPs, plan.largeBlockPrefixLength) {
            report.activations.append(try await activation(lab, count: run.vips, blockPrefixLength: run.blockPrefixLength, track: track))
        }

        // 4. A large table: activation, RSS, rate.
        progress("daemon with \(plan.largeVIPs) VIPs: starting")
        let large = try await startDaemon(
            lab, name: "large", vips: Self.vipRanges(count: plan.largeVIPs), blockPrefixLength: plan.largeBlockPrefixLength)
        track(large)
        let timeout: Duration = plan.quick ? .seconds(30) : .seconds(300)
        let (active, seconds) = try await waitActive(large, count: plan.largeVIPs, timeout: timeout)
        report.activations.append(.init(vips: plan.largeVIPs, blockPrefixLength: plan.largeBlockPrefixLength, active: active, seconds: seconds))
        var scale = BenchReport.Scale(
            vips: plan.largeVIPs, blockPrefixLength: plan.largeBlockPrefixLength, active: active, rssMiB: Self.residentMiB(large))
        // Measure the steady state: the last VIPs' announcement rounds run on for seconds.
        await waitQuiet(large, timeout: .seconds(30))
        scale.ladder = try await ladder(lab, what: "proxyarpd (VIP, \(plan.largeVIPs) VIPs)", target: Self.largeVIP(0), daemon: large)
        scale.rssMiB = max(scale.rssMiB ?? 0, Self.residentMiB(large) ?? 0)
        report.scale = scale
        await large.stop(timeout: .seconds(60))  // withdrawing a large table takes seconds
        track(nil)
        report.activations.sort { ($0.vips, -$0.blockPrefixLength) < ($1.vips, -$1.blockPrefixLength) }
        return report
    }

    // MARK: Daemon

    private func startDaemon(
        _ lab: HostLab, name: String, vips: [String], timers: [String: String] = [:], blockPrefixLength: Int = 32
    ) async throws -> LabProcess {
        let folder = "\(directory)/\(name)"
        let configuration = LabDaemon.configuration(lab, folder: folder, vips: vips, timers: timers, blockPrefixLength: blockPrefixLength)
        return try LabDaemon.start(binary: daemon, in: lab, folder: folder, configuration: configuration)
    }

    /// Polls the daemon's log every 50 ms until its `VIPs activated` summary lines (one a
    /// second at most; per-VIP `VIP active` lines are debug) report `total` ≥ `count`.
    /// Returns how many it saw and the seconds from the call (≈ the daemon's start) to the last.
    private func waitActive(_ process: LabProcess, count: Int, timeout: Duration) async throws -> (Int, Double?) {
        let clock = ContinuousClock()
        let start = clock.now
        var seen = 0
        var lastProgress = (count: -1, at: start)
        while clock.now - start < timeout {
            try Task.checkCancellation()
            let log = (try? Data(contentsOf: URL(fileURLWithPath: process.logPath))) ?? Data()
            seen = Self.activatedTotal(in: log)
            progress("waiting for \(count) VIPs to be active: \(seen)")
            if seen >= count {
                let elapsed = clock.now - start
                return (seen, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            }
            if seen != lastProgress.count { lastProgress = (seen, clock.now) }
            // Stalled (e.g. announcements no longer confirmed): stop waiting, report the count.
            if clock.now - lastProgress.at > .seconds(15) { return (seen, nil) }
            guard process.isRunning || process.processIdentifier == nil else {
                throw BenchFailure("the daemon exited; see \(process.logPath)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return (seen, nil)
    }

    private func activation(
        _ lab: HostLab, count: Int, blockPrefixLength: Int, track: (LabProcess?) -> Void
    ) async throws -> BenchReport.Activation {
        progress("activation of \(count) VIPs, blocks /\(blockPrefixLength)")
        let process = try await startDaemon(
            lab, name: "act\(count)-\(blockPrefixLength)", vips: Self.vipRanges(count: count), blockPrefixLength: blockPrefixLength)
        track(process)
        let (active, seconds) = try await waitActive(process, count: count, timeout: plan.quick ? .seconds(30) : .seconds(180))
        await process.stop()
        track(nil)
        return .init(vips: count, blockPrefixLength: blockPrefixLength, active: active, seconds: seconds)
    }

    // MARK: Rate

    /// Waits until `process` used under 5 % of a CPU over half a second, or `timeout`.
    private func waitQuiet(_ process: LabProcess, timeout: Duration) async {
        let clock = ContinuousClock()
        let start = clock.now
        guard let pid = process.processIdentifier, var last = CPUTime.process(pid) else { return }
        while clock.now - start < timeout {
            progress("waiting for the daemon to settle")
            try? await Task.sleep(for: .milliseconds(500))
            guard let now = CPUTime.process(pid) else { return }
            if now - last < 0.025 { return }
            last = now
        }
    }

    private func ladder(
        _ lab: HostLab, what: String, target: IPv4Address, daemon: LabProcess? = nil
    ) async throws -> BenchReport.Ladder {
        var result = BenchReport.Ladder(what: what, target: target.description, steps: [], highestLossFree: nil, limitedByGenerator: false)
        for rate in plan.rates {
            try Task.checkCancellation()
            progress("\(what): \(rate / 1000)k requests/s for \(plan.stepSeconds) s")
            let pid = daemon?.processIdentifier
            let before = (machine: CPUTime.machineBusy(), daemon: pid.flatMap(CPUTime.process))
            let outcome = try await step(lab, target: target, rate: rate)
            let after = (machine: CPUTime.machineBusy(), daemon: pid.flatMap(CPUTime.process))
            let sentRate = Double(outcome.sent) / max(outcome.sendSeconds, 1e-9)
            let lost = outcome.sent > outcome.replies ? outcome.sent - outcome.replies : 0
            let generatorLimited = sentRate < 0.95 * Double(rate) || outcome.sent < outcome.offered
            result.steps.append(.init(
                offered: rate, sentPerSecond: sentRate, sent: outcome.sent, replies: outcome.replies,
                lossPercent: outcome.sent == 0 ? 100 : 100 * Double(lost) / Double(outcome.sent), generatorLimited: generatorLimited,
                machineMicrosecondsPerRequest: Self.perEvent(after.machine, before.machine, outcome.sent),
                daemonMicrosecondsPerReply: Self.perEvent(after.daemon, before.daemon, outcome.replies)))
            if lost == 0 && outcome.sent > 0 {
                result.highestLossFree = max(result.highestLossFree ?? 0, Int(sentRate))
            } else {
                break
            }
            // The sending side saturated before any loss: a higher offer measures nothing new.
            if generatorLimited {
                result.limitedByGenerator = true
                break
            }
        }
        return result
    }

    private func step(_ lab: HostLab, target: IPv4Address, rate: Int) async throws -> FloodCommand.Outcome {
        let client = lab.clientAddresses[0].address
        let output = try await lab.lab.exec(lab.client, flood, [
            "flood", "--interface", lab.clientDevice, "--target", target.description,
            "--source-mac", lab.clientMAC.description, "--source-ip", client.description,
            "--rate", "\(rate)", "--seconds", "\(plan.stepSeconds)", "--cpu", "0",
        ]).output
        guard let line = output.split(separator: "\n").last,
            let outcome = try? JSONDecoder().decode(FloodCommand.Outcome.self, from: Data(line.utf8))
        else { throw BenchFailure("flood printed no result: \(output)") }
        try await Task.sleep(for: .milliseconds(300))  // let the queues drain between steps
        return outcome
    }

    // MARK: Failover

    private func failover(_ lab: HostLab, events: Int) async throws -> BenchReport.Failover {
        let capturePath = "\(directory)/failover.pcap"
        let capture = try LabProcess(
            binary: "tcpdump", namespace: lab.client,
            arguments: ["-i", lab.clientDevice, "--immediate-mode", "-U", "-n", "-B", "8192", "-w", capturePath, "arp"],
            logPath: "\(directory)/tcpdump.log")
        try await Task.sleep(for: .milliseconds(700))
        var cuts: [(at: Int64, from: MACAddress)] = []
        var commandTimes: [Double] = []
        let clock = SystemClock()
        for index in 0..<events {
            try Task.checkCancellation()
            progress("failover event \(index + 1)/\(events)")
            guard let mac = try await lab.arping(Self.vip, count: 1, timeoutSeconds: 2).first, let agent = lab.adapter(owning: mac) else { continue }
            // Timed from just before `ip link set down` is started: an upper bound, since it
            // includes the start-up of `ip` itself (reported next to it). Timing from its
            // return instead came out biased low: the exit is noticed late under load.
            let cutAt = clock.wallNanoseconds()
            try await lab.lab.ip(lab.fabric, "link", "set", agent.switchPort, "down")
            commandTimes.append(Double(clock.wallNanoseconds() - cutAt) / 1e6)
            cuts.append((cutAt, mac))
            try await Task.sleep(for: .milliseconds(300))
            try await lab.lab.ip(lab.fabric, "link", "set", agent.switchPort, "up")
            try await Task.sleep(for: .milliseconds(1200))  // RUNNING follows link up after 0.2-0.5 s; hold-down 200 ms
        }
        try await Task.sleep(for: .milliseconds(300))
        await capture.stop()
        let frames = try CaptureFile(path: capturePath)
        var latencies: [Double] = []
        for (index, cut) in cuts.enumerated() {
            let before = index + 1 < cuts.count ? cuts[index + 1].at : Int64.max
            if let garp = DemoScript.firstGratuitous(in: frames, for: Self.vip, after: cut.at, excluding: cut.from), garp.at < before {
                latencies.append(Double(garp.at - cut.at) / 1e6)
            }
        }
        latencies.sort()
        commandTimes.sort()
        return .init(
            events: events, measured: latencies.count,
            p50Milliseconds: Self.percentile(latencies, 0.50), p99Milliseconds: Self.percentile(latencies, 0.99),
            maxMilliseconds: latencies.last, cutCommandP50Milliseconds: Self.percentile(commandTimes, 0.5))
    }

    // MARK: Helpers

    /// Microseconds of CPU per event, from two CPU readings in seconds.
    static func perEvent(_ after: Double?, _ before: Double?, _ events: UInt64) -> Double? {
        guard let after, let before, events > 0 else { return nil }
        return (after - before) * 1e6 / Double(events)
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((p * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }

    /// The `index`-th VIP of a large table: 198.19.0.0 onwards (198.19.0.0/16, then 198.18.64.0 onwards).
    static func largeVIP(_ index: Int) -> IPv4Address {
        index < 65_536
            ? IPv4Address(rawValue: IPv4Address(198, 19, 0, 0).rawValue + UInt32(index))
            : IPv4Address(rawValue: IPv4Address(198, 18, 64, 0).rawValue + UInt32(index - 65_536))
    }

    /// `count` VIPs as at most two `range` entries.
    static func vipRanges(count: Int) -> [String] {
        let first = min(count, 65_536)
        var ranges = ["\(largeVIP(0))-\(largeVIP(first - 1))"]
        if count > 65_536 { ranges.append("\(largeVIP(65_536))-\(largeVIP(count - 1))") }
        return ranges
    }

    static func residentMiB(_ process: LabProcess) -> Double? {
        process.processIdentifier.flatMap(ProcessGauges.read).map { Double($0.residentKiB) / 1024 }
    }

    /// The largest `total=N` of the log's `VIPs activated` lines: activations since start.
    static func activatedTotal(in data: Data) -> Int {
        var total = 0
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.contains("VIPs activated") {
            guard let range = line.range(of: " total=") else { continue }
            let digits = line[range.upperBound...].prefix { $0.isNumber }
            total = max(total, Int(digits) ?? 0)
        }
        return total
    }

    static func machine() -> String {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) } ?? "?"
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return "\(ProcessInfo.processInfo.activeProcessorCount) CPUs, \(cpu), Linux \(release)"
    }
}
