import ArgumentParser
import Foundation
import ProxyARPCore
import ProxyARPTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `proxyarpd-lab cluster-bench`: three daemons in cluster mode over a real 3-member etcd
/// (``ClusterLab``). Repeatedly stops the host that owns the first VIP — `kill -9`, or
/// SIGTERM with `--sigterm` — and measures, from the client's capture, the time from the
/// stop to the first gratuitous ARP for that VIP from another host's MAC; the stopped host
/// is started again before the next round. Prints every sample and p50/p99 as JSON.
/// With `--vips N`: the scale run instead (``ClusterScaleRun``): N VIPs in /26 blocks over
/// three hosts started together, time until all are active, keepalives counted at etcd.
struct ClusterBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster-bench",
        abstract: "Lab: kill (or SIGTERM) the owning host repeatedly; time until another host announces the VIP."
    )

    @Option(help: "Rounds.") var rounds: Int = 20
    @Option(help: "Lease TTL of every host (1s, 2s…).") var leaseTTL: String = "1s"
    @Option(help: "VIPs configured on every host.") var vipCount: Int = 3
    @Flag(help: "Stop the owner with SIGTERM (a planned release) instead of SIGKILL.") var sigterm = false
    @Option(help: "The daemon binary (default: proxyarpd next to this executable).") var daemon: String?
    @Option(help: "Copy the daemons' logs here before the lab is removed.") var keepLogs: String?
    @Flag(help: "Instead: kill the etcd leader each round (restarted after), and measure answer gaps and fence events.")
    var killEtcdLeader = false
    @Option(help: "Instead: the scale run with this many VIPs in /26 blocks (e.g. 100000): time to all active, etcd keepalives.")
    var vips: Int?
    @Option(help: "Scale run: seconds of the quiet window in which keepalives are counted.") var window: Int = 10
    @Option(help: "Scale run: give up when not all VIPs are active after this many seconds.") var timeout: Int = 180

    struct LeaderReport: Codable {
        var leaseTTL: String
        var rounds: Int
        var roundsWithAFence: Int
        var fenceEvents: Int
        var maxAnswerGapMilliseconds: [Double]
        var unansweredProbes: Int
        var probes: Int
        var loadAverage: String
    }

    struct Report: Codable {
        var mode: String
        var leaseTTL: String
        var rounds: Int
        var samplesMilliseconds: [Double]
        var missed: Int
        var p50Milliseconds: Double?
        var p99Milliseconds: Double?
        var loadAverage: String
    }

    func run() async throws {
        guard getuid() == 0 else { throw ValidationError("needs root (network namespaces)") }
        let binary = try Executables.daemon(daemon)
        if let scale = self.vips {
            guard (1...130_000).contains(scale) else { throw ValidationError("--vips: 1 to 130000") }
            let report = try await ClusterScaleRun(
                binary: binary, vipCount: scale, leaseTTL: leaseTTL, window: window, timeout: timeout, keepLogs: keepLogs
            ).run()
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        let vips = (0..<vipCount).map { "198.18.0.\(100 + $0)" }
        let lab = try await ClusterLab.build(hosts: 3, tag: "cb")
        var daemons: [LabProcess] = []
        var samples: [Double] = []
        var missed = 0
        if killEtcdLeader {
            do {
                for index in 0..<3 { daemons.append(try lab.startDaemon(index, binary: binary, vips: vips, leaseTTL: leaseTTL, extraCluster: Self.noRebalance)) }
                let report = try await leaderRounds(lab, vip: vips[0])
                keep(lab)
                await lab.destroy(daemons: daemons)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } catch {
                await lab.destroy(daemons: daemons)
                throw error
            }
            return
        }
        do {
            for index in 0..<3 { daemons.append(try lab.startDaemon(index, binary: binary, vips: vips, leaseTTL: leaseTTL, extraCluster: Self.noRebalance)) }
            let capturePath = "\(lab.directory)/client-arp.txt"
            let capture = try LabProcess(
                binary: "/usr/bin/tcpdump", namespace: lab.client,
                arguments: ["-i", lab.clientDevice, "-n", "-tt", "-e", "-l", "--immediate-mode", "arp"], logPath: capturePath)
            defer { capture.send(SIGKILL) }
            let target = vips[0]
            for round in 0..<rounds {
                guard let owner = try await waitForOwner(lab, vip: target, excluding: nil, seconds: 20) else {
                    FileHandle.standardError.write(Data("round \(round): no owner for \(target)\n".utf8))
                    missed += 1
                    continue
                }
                let stoppedAt = Date().timeIntervalSince1970
                if sigterm {
                    daemons[owner].send(SIGTERM)
                } else {
                    daemons[owner].send(SIGKILL)
                }
                let newOwner = try await waitForOwner(lab, vip: target, excluding: owner, seconds: 10)
                try await Task.sleep(for: .milliseconds(300))  // let tcpdump flush its line
                let text = (try? String(contentsOfFile: capturePath, encoding: .utf8)) ?? ""
                if newOwner != nil, let first = Self.firstAnnouncement(in: text, vip: target, after: stoppedAt, excludingHost: owner) {
                    let milliseconds = (first - stoppedAt) * 1000
                    samples.append(milliseconds)
                    FileHandle.standardError.write(Data("round \(round): host\(owner) stopped, host\(newOwner!) announced after \(String(format: "%.1f", milliseconds)) ms\n".utf8))
                } else {
                    missed += 1
                    FileHandle.standardError.write(Data("round \(round): no announcement from another host seen\n".utf8))
                }
                await daemons[owner].stop(timeout: .seconds(3))
                daemons[owner] = try lab.startDaemon(owner, binary: binary, vips: vips, leaseTTL: leaseTTL, extraCluster: Self.noRebalance)
                try await Task.sleep(for: .seconds(3))  // the restarted host registers; the old lease is gone
            }
        } catch {
            await lab.destroy(daemons: daemons)
            throw error
        }
        await lab.destroy(daemons: daemons)
        let sorted = samples.sorted()
        func percentile(_ p: Double) -> Double? {
            guard !sorted.isEmpty else { return nil }
            return sorted[min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.up)) - 1)]
        }
        let load = LoadAverage.text()
        let report = Report(
            mode: sigterm ? "sigterm" : "kill -9", leaseTTL: leaseTTL, rounds: rounds, samplesMilliseconds: samples, missed: missed,
            p50Milliseconds: percentile(0.5), p99Milliseconds: percentile(0.99), loadAverage: load)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
    }

    /// Each round: wait for an owner, kill the etcd leader, probe `vip` every 50 ms for 4 s
    /// (arping, 300 ms wait), count the daemons' fence lines, restart the member.
    private func leaderRounds(_ lab: ClusterLab, vip: String) async throws -> LeaderReport {
        var gaps: [Double] = []
        var roundsWithAFence = 0
        var fenceEvents = 0
        var unanswered = 0
        var probes = 0
        func fenceLines() -> Int {
            (0..<3).reduce(0) { total, index in
                let log = (try? String(contentsOfFile: "\(lab.directory)/h\(index).log", encoding: .utf8)) ?? ""
                return total + log.components(separatedBy: "fenced: no keepalive").count - 1
            }
        }
        for round in 0..<rounds {
            guard try await waitForOwner(lab, vip: vip, excluding: nil, seconds: 20) != nil,
                let leader = try await lab.etcd.leaderIndex()
            else {
                FileHandle.standardError.write(Data("round \(round): no owner or no leader\n".utf8))
                continue
            }
            let fencesBefore = fenceLines()
            await lab.etcd.killMember(leader)
            let start = Date()
            var lastAnswer = start
            var maxGap = 0.0
            while Date().timeIntervalSince(start) < 4 {
                probes += 1
                let macs = try await lab.arping(vip, count: 1, timeoutSeconds: 1)
                let now = Date()
                if macs.isEmpty {
                    unanswered += 1
                } else {
                    maxGap = max(maxGap, now.timeIntervalSince(lastAnswer))
                    lastAnswer = now
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            maxGap = max(maxGap, Date().timeIntervalSince(lastAnswer))
            let fences = fenceLines() - fencesBefore
            fenceEvents += fences
            if fences > 0 { roundsWithAFence += 1 }
            gaps.append(maxGap * 1000)
            FileHandle.standardError.write(Data("round \(round): leader m\(leader) killed; fence lines \(fences); longest gap between answers \(String(format: "%.0f", maxGap * 1000)) ms\n".utf8))
            try lab.etcd.startMember(leader)
            try await lab.etcd.waitHealthy()
            try await Task.sleep(for: .seconds(2))
        }
        let load = LoadAverage.text()
        return LeaderReport(
            leaseTTL: leaseTTL, rounds: rounds, roundsWithAFence: roundsWithAFence, fenceEvents: fenceEvents,
            maxAnswerGapMilliseconds: gaps, unansweredProbes: unanswered, probes: probes, loadAverage: load)
    }

    private func keep(_ lab: ClusterLab) {
        if let keepLogs { lab.copyDaemonLogs(to: keepLogs) }
    }

    /// Polls arping until one host other than `excluded` answers for `vip`.
    private func waitForOwner(_ lab: ClusterLab, vip: String, excluding excluded: Int?, seconds: Int) async throws -> Int? {
        for _ in 0..<(seconds * 10) {
            let macs = try await lab.arping(vip, count: 1, timeoutSeconds: 1)
            if let host = macs.first.flatMap(ClusterLab.host(owning:)), host != excluded { return host }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    /// `cluster.rebalance_after: off`: the bench measures takeovers; a unit handed back to a
    /// restarted host in the middle of the next round would count as a (too fast) takeover.
    static let noRebalance = "  rebalance_after: off"

    /// The wall time of the first gratuitous ARP for `vip` (either form) in tcpdump `-tt -e`
    /// output after `after`, from a MAC of a host other than `excludingHost`.
    static func firstAnnouncement(in text: String, vip: String, after: Double, excludingHost: Int) -> Double? {
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count > 2, let time = Double(words[0]), time >= after,
                let mac = MACAddress(String(words[1])), let host = ClusterLab.host(owning: mac), host != excludingHost
            else { continue }
            // Broadcast only: the unicast replies to the bench's own arping do not count.
            guard line.contains("> ff:ff:ff:ff:ff:ff") else { continue }
            if line.contains("who-has \(vip) tell \(vip)") || line.contains("Reply \(vip) is-at") { return time }
        }
        return nil
    }
}
