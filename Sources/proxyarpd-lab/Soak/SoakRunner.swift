import Foundation
import ProxyARPActors
import ProxyARPControl
import ProxyARPCore
import ProxyARPTestSupport

/// Runs a soak against one lab, which it always removes: the daemon with configuration A,
/// then at once, until the plan's time is up, the ARP load (every reply checked), a carrier
/// flap every few seconds, a SIGHUP every 10 s alternating configurations A and B, status
/// clients, a `trace --follow` client and SIGUSR1 dumps; a report line every 30 s.
struct SoakRunner: Sendable {
    let daemon: String
    let directory: String
    let plan: SoakPlan
    /// Called with each report line as it is made.
    let printLine: @Sendable (String) -> Void

    var folder: String { "\(directory)/daemon" }
    var socket: String { LabDaemon.socketPath(folder) }
    var followerPath: String { "\(directory)/trace-follow.jsonl" }

    func progress(_ text: String) {
        FileHandle.standardError.write(Data("[soak] \(text)\n".utf8))
    }

    func run() async throws -> SoakReport {
        progress("building lab")
        let lab = try await HostLab.build(prefix: NetnsLab.uniquePrefix("pasoak"), adapters: Array(SoakPlan.adapters))
        var processes: [LabProcess] = []
        do {
            let report = try await soak(lab) { processes.append($0) }
            for process in processes.reversed() where process.isRunning { await process.stop(timeout: .seconds(30)) }
            lab.destroy()
            return report
        } catch {
            for process in processes.reversed() where process.isRunning { await process.stop(timeout: .seconds(30)) }
            lab.destroy()
            throw error
        }
    }

    private func configuration(_ lab: HostLab, _ entries: [String]) -> String {
        LabDaemon.configuration(
            lab, folder: folder, vips: entries, timers: ["hold_down": plan.holdDown], blockPrefixLength: plan.blockPrefixLength)
    }

    private func soak(_ lab: HostLab, track: (LabProcess) -> Void) async throws -> SoakReport {
        let configA = configuration(lab, SoakPlan.commonVIPs + SoakPlan.onlyA)
        let configB = configuration(lab, SoakPlan.commonVIPs + SoakPlan.onlyB)
        let vipsA = SoakPlan.expand(SoakPlan.commonVIPs + SoakPlan.onlyA)
        let vipsB = SoakPlan.expand(SoakPlan.commonVIPs + SoakPlan.onlyB)
        let asked = Array(Set(vipsA + vipsB)).sorted()
        let traceCapacity = DaemonSettings().traceCapacity
        var report = SoakReport(
            daemon: daemon, plannedSeconds: plan.seconds, offeredRate: plan.rate, vipsA: vipsA.count, vipsB: vipsB.count,
            vipsAsked: asked.count, adapters: lab.adapters.map(\.name), blockPrefixLength: plan.blockPrefixLength,
            graceMilliseconds: plan.graceMilliseconds, stuckAfterSeconds: plan.stuckAfter)
        report.holdDown = plan.holdDown
        report.loadAverageStart = ProcessGauges.loadAverage()
        report.onlineCPUs = sysconf(Int32(_SC_NPROCESSORS_ONLN))

        progress("starting \(daemon) with \(vipsA.count) VIPs on \(lab.adapters.count) adapters")
        let process = try LabDaemon.start(binary: daemon, in: lab, folder: folder, configuration: configA)
        track(process)
        let ledger = SoakLedger(
            graceNanoseconds: Int64(plan.graceMilliseconds) * 1_000_000, stuckAfterNanoseconds: Int64(plan.stuckAfter * 1e9))
        try await waitAllActive(process, ledger: ledger, count: vipsA.count, timeout: .seconds(180), observe: false)

        let follower = try LabProcess(
            binary: daemon, namespace: lab.host, arguments: ["trace", "--follow", "--socket", socket], logPath: followerPath)
        track(follower)
        progress("load: \(plan.rate) requests/s over \(asked.count) VIPs; flap every \(plan.flapEvery) s, SIGHUP every \(plan.reloadEvery) s")
        let generator = try SoakGenerator(
            namespace: lab.client, interface: lab.clientDevice, requester: (lab.clientMAC, lab.clientAddresses[0].address),
            vips: asked, rate: plan.rate)
        let configPath = LabDaemon.configPath(folder)

        // Descriptors and threads are read in a burst spanning one reload period and a second:
        // its fewest descriptors leave out those open for a moment (status connections, a
        // dump, the reread file); its most threads bound libdispatch's coming and going workers.
        let burstReadings = Int((plan.reloadEvery + 1) / 0.5) + 1
        let clock = ContinuousClock()
        let start = clock.now
        var tailAfterLoad = TraceFollowerTail(path: followerPath)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.poll(ledger: ledger) }
            group.addTask { await self.flap(lab, ledger: ledger) }
            group.addTask { await self.reload(process, configs: [configB, configA], path: configPath, ledger: ledger) }
            group.addTask { await self.statusClient(ledger: ledger) }
            group.addTask { await self.dump(process, ledger: ledger) }

            var tail = TraceFollowerTail(path: followerPath)
            var previous = (at: start, counters: generator.counters)
            var nextReport = start + .seconds(plan.reportEvery)
            while true {
                try await Task.sleep(for: .milliseconds(200))
                await ledger.selected(tail.read(), readThrough: tail.latestMonotonic)  // before the replies: a selection is never later than its replies
                await ledger.add(generator.drain())
                guard clock.now >= nextReport else { continue }
                nextReport += .seconds(plan.reportEvery)
                let now = (at: clock.now, counters: generator.counters)
                let interval = Self.seconds(now.at - previous.at)
                guard let pid = process.processIdentifier,
                    let (gauges, peak, threads) = await ProcessGauges.burst(pid, count: burstReadings, interval: .milliseconds(500))
                else {
                    progress("the daemon is gone; see \(process.logPath)")
                    break
                }
                let states = await ledger.latestStates
                let sample = SoakSample(
                    elapsedSeconds: Self.seconds(now.at - start), residentKiB: gauges.residentKiB,
                    fileDescriptors: gauges.fileDescriptors, threads: gauges.threads,
                    fileDescriptorsPeak: peak.fileDescriptors, threadsPeak: peak.threads, threadKinds: threads,
                    traceFill: min(traceCapacity, tail.latestSequence), traceCapacity: traceCapacity,
                    vipsByState: Dictionary(grouping: states.values, by: { $0 }).mapValues(\.count),
                    requestsPerSecond: Double(now.counters.sent - previous.counters.sent) / interval,
                    repliesPerSecond: Double(now.counters.replies - previous.counters.replies) / interval,
                    wrongReplies: await ledger.checker.wrong, stuckVIPs: await ledger.stuckNow,
                    flaps: await ledger.flaps, reloads: await ledger.reloads)
                report.samples.append(sample)
                printLine(sample.line)
                previous = now
                if Self.seconds(now.at - start) >= plan.seconds - 0.5 { break }
            }
            group.cancelAll()
            try? await group.waitForAll()
            await ledger.selected(tail.read(), readThrough: tail.latestMonotonic)
            tailAfterLoad = tail
        }

        // Wind down: carriers back, load stopped, every reply judged.
        progress("stopping the load")
        for adapter in lab.adapters { try? await lab.restoreCarrier(adapter.name) }
        generator.stop()
        await ledger.selected(tailAfterLoad.read(), readThrough: tailAfterLoad.latestMonotonic)
        await ledger.add(generator.drain())
        let counters = generator.counters
        report.daemonAlive = process.isRunning
        report.traceFollowerAlive = follower.isRunning

        // Settle, then the final status: every configured VIP must be active.
        if report.daemonAlive {
            progress("settling")
            let settled = try await waitAllActive(process, ledger: ledger, count: nil, timeout: .seconds(plan.stuckAfter))
            report.finalNotActive = Dictionary(
                uniqueKeysWithValues: settled.filter { $0.value != "active" && $0.value != "withdrawn" }.map { ($0.key.description, $0.value) })
        } else {
            report.finalNotActive = ["*": "the daemon exited; see its log"]
        }
        await ledger.selected(tailAfterLoad.read(), readThrough: tailAfterLoad.latestMonotonic)
        await ledger.finish()

        let checker = await ledger.checker
        report.requestsSent = counters.sent
        report.repliesHeard = counters.replies
        report.repliesChecked = checker.checked
        report.wrongReplies = checker.wrong
        report.repliesUnchecked = counters.overflow + UInt64(checker.unjudged)
        report.wrongExamples = checker.examples
        report.stuckVIPs = await ledger.stuck.everStuck.reduce(into: [:]) { $0[$1.key.description] = Double($1.value) / 1e9 }
        report.flaps = await ledger.flaps
        report.reloads = await ledger.reloads
        report.statusPolls = await ledger.statusPolls
        report.statusCalls = await ledger.statusCalls
        report.statusFailures = await ledger.statusFailures
        for failure in await ledger.failureExamples { progress("status failure: \(failure)") }
        report.dumpsRequested = await ledger.dumpsRequested
        report.dumpsWritten = ((try? FileManager.default.contentsOfDirectory(atPath: "\(folder)/state")) ?? []).filter { $0.hasPrefix("trace-") }.count
        await follower.stop()
        _ = tailAfterLoad.read()
        report.traceFollowerRecords = tailAfterLoad.records
        report.loadAverageEnd = ProcessGauges.loadAverage()
        report.criteria = SoakJudge.criteria(report)
        return report
    }

    // MARK: The clients and events

    /// `proxyarpd status --all --json`, decoded; nil (and counted) on failure.
    private func status(ledger: SoakLedger, counting: Bool = true) async -> StatusReport? {
        // Not counted: before the daemon listens (start-up), and a call cut short by the end of the run.
        func failed(_ why: String) async {
            if counting && !Task.isCancelled { await ledger.statusFailed(why) }
        }
        do {
            let result = try await Command.run(daemon, ["status", "--all", "--json", "--socket", socket], check: false)
            guard result.succeeded, let line = result.output.split(separator: "\n").last else {
                await failed("status --all --json: exit \(result.exitCode.map(String.init) ?? "signal"): \(result.error.prefix(200))")
                return nil
            }
            let reply = try ControlCodec.decode(ControlReply.self, from: line)
            guard reply.ok, let status = reply.status else {
                await failed("status --all --json: \(reply.error ?? "no status")")
                return nil
            }
            return status
        } catch {
            await failed("status --all --json: \(error)")
            return nil
        }
    }

    /// Polls the status for the checker and the stuck tracker until cancelled.
    private func poll(ledger: SoakLedger) async {
        while !Task.isCancelled {
            if let status = await status(ledger: ledger) {
                await ledger.observe(status.engine.vips, at: status.monotonicNanoseconds)
            }
            try? await Task.sleep(for: .seconds(plan.pollEvery))
        }
    }

    /// Polls until every listed VIP is active (and, with `count`, that many are listed), or
    /// `timeout`; returns the last states seen.
    @discardableResult
    /// `observe`: hand the statuses to the checker and the stuck tracker (not during the
    /// first activation, which is not the soak's business).
    private func waitAllActive(
        _ process: LabProcess, ledger: SoakLedger, count: Int?, timeout: Duration, observe: Bool = true
    ) async throws -> [IPv4Address: String] {
        let clock = ContinuousClock()
        let start = clock.now
        var states: [IPv4Address: String] = [:]
        while clock.now - start < timeout {
            try Task.checkCancellation()
            guard process.isRunning || process.processIdentifier == nil else { throw BenchFailure("the daemon exited; see \(process.logPath)") }
            if let status = await status(ledger: ledger, counting: count == nil) {
                if observe { await ledger.observe(status.engine.vips, at: status.monotonicNanoseconds) }
                states = Dictionary(
                    status.engine.vips.compactMap { vip in vip.vip.ipv4.map { ($0, vip.state) } }, uniquingKeysWith: { a, _ in a })
                let configured = states.values.filter { $0 != "withdrawn" }
                if configured.allSatisfy({ $0 == "active" }), configured.count >= (count ?? 1) { return states }
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        if let count { throw BenchFailure("not all \(count) VIPs active after \(timeout): \(Dictionary(grouping: states.values, by: { $0 }).mapValues(\.count))") }
        return states
    }

    /// A carrier flap every `flapEvery` seconds, adapters in turn: the bridge-side peer down,
    /// `flapPause`, up. Carrier is back when cancelled.
    private func flap(_ lab: HostLab, ledger: SoakLedger) async {
        var index = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(plan.flapEvery - plan.flapPause))
            guard !Task.isCancelled else { return }
            let name = lab.adapters[index % lab.adapters.count].name
            index += 1
            // The `ip` commands run in their own tasks: the end of the run does not cut them short.
            let pause = plan.flapPause
            let outcome = await Task {
                try await lab.cutCarrier(name)
                try? await Task.sleep(for: .seconds(pause))
                try await lab.restoreCarrier(name)
            }.result
            switch outcome {
            case .success: await ledger.flapped()
            case .failure(let error):
                progress("flap of \(name) failed: \(error)")
                _ = await Task { try await lab.restoreCarrier(name) }.result
            }
        }
    }

    /// Every `reloadEvery` seconds: the next configuration written in place, then SIGHUP.
    private func reload(_ process: LabProcess, configs: [String], path: String, ledger: SoakLedger) async {
        var index = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(plan.reloadEvery))
            guard !Task.isCancelled else { return }
            do {
                try configs[index % configs.count].write(toFile: path, atomically: true, encoding: .utf8)
                index += 1
                process.send(SIGHUP)
                await ledger.reloaded()
            } catch {
                progress("writing \(path) failed: \(error)")
            }
        }
    }

    /// `proxyarpd status` (the table) every `statusEvery` seconds.
    private func statusClient(ledger: SoakLedger) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(plan.statusEvery))
            guard !Task.isCancelled else { return }
            let result = try? await Command.run(daemon, ["status", "--socket", socket], check: false)
            if let result, result.succeeded, result.output.contains("active") {
                await ledger.statusCalled()
            } else if !Task.isCancelled {
                await ledger.statusFailed("status: \(result.map { "exit \($0.exitCode.map(String.init) ?? "signal"): \($0.error.prefix(200))" } ?? "could not run")")
            }
        }
    }

    /// SIGUSR1 every `dumpEvery` seconds (the first after a fifth of it).
    private func dump(_ process: LabProcess, ledger: SoakLedger) async {
        var wait = plan.dumpEvery / 5
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(wait))
            guard !Task.isCancelled else { return }
            process.send(SIGUSR1)
            await ledger.dumpRequested()
            wait = plan.dumpEvery
        }
    }

    // MARK: Helpers

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
