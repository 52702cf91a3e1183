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
    /// `io.fast_path` of every daemon the bench starts (`pcap` or `xdp`).
    var fastPath = "pcap"
    /// The `io:` section of every daemon the bench starts.
    var io = "io:\n  fast_path: pcap\n"

    static let vip = IPv4Address(198, 18, 0, 100)
    /// An address on h0/h1's subnet that nobody serves (the ceiling row asks for it).
    static let nobody = IPv4Address(198, 18, 0, 250)
    /// The lab's IPv6 addresses (NDP ladders): 2001:db8:be::/64 on h0, h1 and the client.
    static let ipv6Plan = IPv6LabPlan(site: 0xBE)
    /// The IPv6 VIP of the 1-VIP NDP ladder.
    static let vip6 = ipv6Plan.vip(0)
    /// An address of h0/h1's /64 that nobody serves, and whose solicited-node group nobody
    /// joined (the NDP ceiling row asks for it).
    static let nobody6 = IPv6Address(high: ipv6Plan.primaryPrefix.high, low: 0x250)

    func progress(_ text: String) {
        FileHandle.standardError.write(Data("\u{1B}[2K\r[bench] \(text)".utf8))
    }

    func run() async throws -> BenchReport {
        let started = Date()
        progress("building lab")
        var lab = try await HostLab.build(prefix: NetnsLab.uniquePrefix("pab"))
        var running: LabProcess?
        do {
            if fastPath == "xdp" { try await givePeersPassPrograms(&lab) }
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
        report.loadAtStart = LoadAverage.text()
        report.fixedRate = plan.fixedRate
        // Only the adapter that owns an address answers for it (as the daemon configures it).
        try await lab.lab.exec(lab.host, "sysctl", ["-qw", "net.ipv4.conf.all.arp_ignore=1"])
        try await lab.lab.exec(lab.client, "sysctl", ["-qw", "net.core.rmem_max=67108864"])
        if plan.families.contains(.ndp) { try await lab.enableIPv6(plan: Self.ipv6Plan) }
        if plan.families.contains(.arp) { try await arpRates(lab, into: &report, track: track) }
        if plan.families.contains(.ndp) { try await ndpRates(lab, into: &report, track: track) }
        if plan.families.contains(.arp) { try await arpScale(lab, into: &report, track: track) }
        report.activations.sort { ($0.vips, -$0.blockPrefixLength) < ($1.vips, -$1.blockPrefixLength) }
        report.computeMarginals()
        report.loadAtEnd = LoadAverage.text()
        return report
    }

    /// The ARP ceiling, 1-VIP (and failover) and kernel ladders.
    private func arpRates(_ lab: HostLab, into report: inout BenchReport, track: (LabProcess?) -> Void) async throws {
        // 0. The ceiling: the generator alone, requests for an address nobody serves (no
        // daemon; the kernel's ARP code still looks at every request on every adapter).
        report.ceiling = try await ladder(lab, what: "nobody answers (ceiling)", target: .arp(Self.nobody), nobodyAnswers: true)

        // 1. One VIP: rate and failover.
        progress("daemon with 1 VIP: starting")
        let one = try await startDaemon(lab, name: "one", vips: [Self.vip.description], timers: ["hold_down": "0"])  // no flap damping: 50 back-to-back link cycles measure failover, not hold-down
        track(one)
        _ = try await waitActive(one, count: 1, timeout: .seconds(30))
        await waitQuiet(one, timeout: .seconds(10))
        report.rssOneVIPMiB = Self.residentMiB(one)
        report.proxyarpd = try await ladder(lab, what: "proxyarpd (VIP, 1 VIP)", target: .arp(Self.vip), daemon: one)
        if plan.failoverEvents > 0 { report.failover = try await failover(lab, events: plan.failoverEvents) }
        await one.stop()
        track(nil)

        // 2. The kernel, same topology, daemon stopped: the host adapter's own address.
        let own = lab.adapters[0].address.address
        report.kernel = try await ladder(lab, what: "kernel (h0's own address)", target: .arp(own))
        if let a = report.proxyarpd?.highestLossFree, let b = report.kernel?.highestLossFree, b > 0 {
            report.ratio = Double(a) / Double(b)
        }
    }

    /// The NDP ladders, same lab and generator: the ceiling (solicitations for an address
    /// nobody serves, to a group nobody joined), the kernel answering for h0's own IPv6
    /// address (no daemon), proxyarpd with 1 IPv6 VIP, and a large IPv6 table on request.
    /// A daemon that never advertises its VIP (IPv6 not served) is reported, not measured.
    private func ndpRates(_ lab: HostLab, into report: inout BenchReport, track: (LabProcess?) -> Void) async throws {
        report.ndpCeiling = try await ladder(lab, what: "NDP: nobody answers (ceiling)", target: .ndp(Self.nobody6, responder: nil), nobodyAnswers: true)
        let h0 = lab.adapters[0]
        report.ndpKernel = try await ladder(
            lab, what: "NDP: kernel (h0's own address)", target: .ndp(Self.ipv6Plan.address(of: h0.name), responder: h0.mac))

        progress("daemon with 1 IPv6 VIP: starting")
        let one = try await startDaemon(lab, name: "one6", vips: [Self.vip6.description])
        track(one)
        let timeout: Duration = plan.quick ? .seconds(15) : .seconds(30)
        if let agent = try await waitAdvertised(lab, Self.vip6, daemon: one, timeout: timeout) {
            await waitQuiet(one, timeout: .seconds(10))
            report.ndpProxyarpd = try await ladder(lab, what: "NDP: proxyarpd (1 IPv6 VIP)", target: .ndp(Self.vip6, responder: agent), daemon: one)
        } else {
            report.ndpNotServed = "no advertisement for \(Self.vip6) within \(timeout) of the daemon's start (IPv6 VIPs not served?)"
        }
        await one.stop()
        track(nil)
        if let a = report.ndpProxyarpd?.highestLossFree, let b = report.ndpKernel?.highestLossFree, b > 0 {
            report.ndpRatio = Double(a) / Double(b)
        }

        guard plan.largeIPv6VIPs > 0, report.ndpNotServed == nil else { return }
        let count = plan.largeIPv6VIPs
        let first = IPv6Address(high: Self.ipv6Plan.primaryPrefix.high, low: 0x1_0000)
        guard let last = first.advanced(by: UInt64(count - 1)) else { return }
        progress("daemon with \(count) IPv6 VIPs: starting")
        let large = try await startDaemon(lab, name: "large6", vips: ["\(first)-\(last)"])
        track(large)
        let (active, seconds) = try await waitActive(large, count: count, timeout: plan.quick ? .seconds(30) : .seconds(300))
        var scale = BenchReport.Scale(vips: count, blockPrefixLength: 128, active: active, rssMiB: Self.residentMiB(large))
        await waitQuiet(large, timeout: .seconds(30))
        if let agent = try await waitAdvertised(lab, first, daemon: large, timeout: .seconds(10)) {
            scale.ladder = try await ladder(lab, what: "NDP: proxyarpd (\(count) IPv6 VIPs)", target: .ndp(first, responder: agent), daemon: large)
        }
        scale.rssMiB = max(scale.rssMiB ?? 0, Self.residentMiB(large) ?? 0)
        report.ndpScale = scale
        report.ndpActivationSeconds = seconds
        await large.stop(timeout: .seconds(60))
        track(nil)
    }

    /// Solicits `vip` from the client (ndisc6) until one MAC advertises it, the daemon
    /// exits or `timeout` passes; returns that MAC.
    private func waitAdvertised(_ lab: HostLab, _ vip: IPv6Address, daemon process: LabProcess, timeout: Duration) async throws -> MACAddress? {
        let clock = ContinuousClock()
        let start = clock.now
        while clock.now - start < timeout {
            try Task.checkCancellation()
            progress("waiting for an advertisement of \(vip)")
            let macs = try await lab.ndisc6(vip, waitMilliseconds: 500)
            if let mac = macs.first, Set(macs).count == 1 { return mac }
            guard process.isRunning || process.processIdentifier == nil else {
                throw BenchFailure("the daemon exited; see \(process.logPath)")
            }
        }
        return nil
    }

    /// The ARP activation runs and the large-table ladder.
    private func arpScale(_ lab: HostLab, into report: inout BenchReport, track: (LabProcess?) -> Void) async throws {
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
        scale.ladder = try await ladder(lab, what: "proxyarpd (VIP, \(plan.largeVIPs) VIPs)", target: .arp(Self.largeVIP(0)), daemon: large)
        scale.rssMiB = max(scale.rssMiB ?? 0, Self.residentMiB(large) ?? 0)
        report.scale = scale
        await large.stop(timeout: .seconds(60))  // withdrawing a large table takes seconds
        track(nil)
    }

    // MARK: Daemon

    /// XDP_TX on a veth (driver mode) reaches the peer only when the peer runs an XDP program
    /// of its own: the bridge-side peers of the host adapters get the object's XDP_PASS one.
    private func givePeersPassPrograms(_ lab: inout HostLab) async throws {
        let object = "\(directory)/proxyarp.bpf.o"
        try Data(XDPObject.bytes).write(to: URL(fileURLWithPath: object))
        try await lab.runOnSwitchPorts(object: object, program: XDPObject.passProgramName)
    }

    private func startDaemon(
        _ lab: HostLab, name: String, vips: [String], timers: [String: String] = [:], blockPrefixLength: Int = 32
    ) async throws -> LabProcess {
        let folder = "\(directory)/\(name)"
        let configuration = LabDaemon.configuration(
            lab, folder: folder, vips: vips, timers: timers, blockPrefixLength: blockPrefixLength,
            extra: io)
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

    /// Waits until `process` used under 5 % of a CPU over half a second, or `timeout`; never
    /// less than 1.5 s, so the steps measure the steady state: each capture filter is narrowed
    /// 500 ms after the answer table's last change, the `tc` guard 200 ms after it.
    private func waitQuiet(_ process: LabProcess, timeout: Duration) async {
        let clock = ContinuousClock()
        let start = clock.now
        try? await Task.sleep(for: .milliseconds(1500))
        guard let pid = process.processIdentifier, var last = CPUTime.process(pid) else { return }
        while clock.now - start < timeout {
            progress("waiting for the daemon to settle")
            try? await Task.sleep(for: .milliseconds(500))
            guard let now = CPUTime.process(pid) else { return }
            if now - last < 0.025 { return }
            last = now
        }
    }

    /// Paced steps (plan.rates, lowest first) until a step loses a reply or the generator
    /// cannot reach the offer, then one unpaced step. With `nobodyAnswers`, loss is not
    /// a stop (nothing answers): the ladder climbs until the generator saturates.
    private func ladder(
        _ lab: HostLab, what: String, target: BenchTarget, daemon: LabProcess? = nil, nobodyAnswers: Bool = false
    ) async throws -> BenchReport.Ladder {
        var result = BenchReport.Ladder(what: what, target: target.description, steps: [], highestLossFree: nil, limitedByGenerator: false)
        var ended: String?
        for rate in plan.rates {
            try Task.checkCancellation()
            let measured = try await measuredStep(lab, what: what, target: target, rate: rate, daemon: daemon)
            result.steps.append(measured)
            if nobodyAnswers {
                result.highestLossFree = max(result.highestLossFree ?? 0, Int(measured.sentPerSecond))
            } else if measured.lossPercent == 0 && measured.sent > 0 {
                result.highestLossFree = max(result.highestLossFree ?? 0, Int(measured.sentPerSecond))
            } else {
                ended = measured.receiverDrops > 0
                    ? "loss at \(rate / 1000)k/s offered (the client's receive buffer dropped \(measured.receiverDrops))"
                    : String(format: "loss at %dk/s offered (%.3f %% unanswered)", rate / 1000, measured.lossPercent)
                break
            }
            // The sending side saturated: a higher offer measures nothing new.
            if measured.generatorLimited {
                result.limitedByGenerator = true
                ended = String(format: "generator core saturated (%.0fk/s sent of %dk/s offered)", measured.sentPerSecond / 1000, rate / 1000)
                break
            }
        }
        try Task.checkCancellation()
        let maximum = try await measuredStep(lab, what: what, target: target, rate: 0, daemon: daemon)
        result.maximum = maximum
        if nobodyAnswers { result.highestLossFree = max(result.highestLossFree ?? 0, Int(maximum.sentPerSecond)) }
        result.limit = ended ?? "not reached: every offered rate answered (add higher --rates)"
        if !nobodyAnswers, maximum.lossPercent > 0 {
            result.limit += String(format: "; unpaced: %.1f %% unanswered", maximum.lossPercent)
        }
        return result
    }

    /// One step of `rate` requests/s (0: unpaced) with the machine's and the daemon's CPU.
    private func measuredStep(
        _ lab: HostLab, what: String, target: BenchTarget, rate: Int, daemon: LabProcess?
    ) async throws -> BenchReport.Step {
        progress("\(what): \(rate == 0 ? "unpaced" : "\(rate / 1000)k requests/s") for \(plan.stepSeconds) s")
        let pid = daemon?.processIdentifier
        let before = pid.flatMap(CPUTime.process)
        let outcome = try await step(lab, target: target, rate: rate)
        let after = pid.flatMap(CPUTime.process)
        let window = max(outcome.sendSeconds, 1e-9)
        let sentRate = Double(outcome.sent) / window
        let lost = outcome.sent > outcome.replies ? outcome.sent - outcome.replies : 0
        let generatorLimited = rate > 0 && (sentRate < 0.95 * Double(rate) || outcome.sent < outcome.offered)
        let daemonSeconds = after.flatMap { a in before.map { a - $0 } }
        return .init(
            offered: rate, sentPerSecond: sentRate, sent: outcome.sent, replies: outcome.replies,
            lossPercent: outcome.sent == 0 ? 100 : 100 * Double(lost) / Double(outcome.sent), generatorLimited: generatorLimited,
            receiverDrops: outcome.receiverDrops,
            machineBusyCPUs: outcome.busySeconds.map { $0 / window },
            machineMicrosecondsPerRequest: outcome.busySeconds.map { $0 * 1e6 / Double(max(outcome.sent, 1)) },
            daemonMicrosecondsPerReply: Self.perEvent(after, before, outcome.replies),
            daemonCPUs: daemonSeconds.map { $0 / window },
            labCPUs: outcome.labSeconds.map { ($0 + (daemonSeconds ?? 0)) / window })
    }

    private func step(_ lab: HostLab, target: BenchTarget, rate: Int) async throws -> FloodCommand.Outcome {
        let asking: [String]
        switch target {
        case .arp(let address):
            asking = ["--target", address.description, "--source-ip", lab.clientAddresses[0].address.description]
        case .ndp(let address, let responder):
            asking = ["--family", "ndp", "--target", address.description, "--source-ip", Self.ipv6Plan.client.description]
                + (responder.map { ["--responder-mac", $0.description] } ?? [])
        }
        let output = try await lab.lab.exec(lab.client, flood, [
            "flood", "--interface", lab.clientDevice, "--source-mac", lab.clientMAC.description,
        ] + asking + [
            "--rate", "\(rate)", "--seconds", "\(plan.stepSeconds)", "--cpu", "0", "--batch", "64",
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
        var cuts: [(at: Int64, kernelAt: Int64?, from: MACAddress)] = []
        var commandTimes: [Double] = []
        let clock = SystemClock()
        for index in 0..<events {
            try Task.checkCancellation()
            progress("failover event \(index + 1)/\(events)")
            guard let mac = try await lab.arping(Self.vip, count: 1, timeoutSeconds: 2).first, let agent = lab.adapter(owning: mac) else { continue }
            // Timed from just before `ip link set down` is started: an upper bound, since it
            // includes the start-up of `ip` itself (reported next to it). Timing from its
            // return instead came out biased low: the exit is noticed late under load. With
            // strace installed, also from the kernel's own cut (its RTM_NEWLINK sendmsg).
            let cutAt = clock.wallNanoseconds()
            let kernelCut = try await lab.cutCarrierTimed(agent.name, directory: directory)
            commandTimes.append(Double(clock.wallNanoseconds() - cutAt) / 1e6)
            cuts.append((cutAt, kernelCut?.start, mac))
            try await Task.sleep(for: .milliseconds(300))
            try await lab.restoreCarrier(agent.name)
            try await Task.sleep(for: .milliseconds(1200))  // RUNNING follows link up after 0.2-0.5 s; hold-down 200 ms
        }
        try await Task.sleep(for: .milliseconds(300))
        await capture.stop()
        let frames = try CaptureFile(path: capturePath)
        var latencies: [Double] = []
        var fromKernel: [Double] = []
        for (index, cut) in cuts.enumerated() {
            let before = index + 1 < cuts.count ? cuts[index + 1].at : Int64.max
            if let garp = DemoScript.firstGratuitous(in: frames, for: Self.vip, after: cut.at, excluding: cut.from), garp.at < before {
                latencies.append(Double(garp.at - cut.at) / 1e6)
                if let kernelAt = cut.kernelAt { fromKernel.append(Double(garp.at - kernelAt) / 1e6) }
            }
        }
        fromKernel.sort()
        latencies.sort()
        commandTimes.sort()
        return .init(
            events: events, measured: latencies.count,
            p50Milliseconds: Self.percentile(latencies, 0.50), p99Milliseconds: Self.percentile(latencies, 0.99),
            maxMilliseconds: latencies.last, cutCommandP50Milliseconds: Self.percentile(commandTimes, 0.5),
            fromKernelCut: fromKernel.isEmpty ? nil : .init(
                measured: fromKernel.count, p50Milliseconds: Self.percentile(fromKernel, 0.50),
                p99Milliseconds: Self.percentile(fromKernel, 0.99), maxMilliseconds: fromKernel.last))
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
