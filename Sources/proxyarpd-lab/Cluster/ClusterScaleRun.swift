import Foundation
import ProxyARPTestSupport

/// `proxyarpd-lab cluster-bench --vips N`: three daemons started together in cluster mode
/// over a real 3-member etcd, sharing N VIPs in /26 blocks (`selection.block_prefix_length:
/// 26`, so N / 64 ownership units). Measures the time from the start until every VIP is
/// active on exactly one host (the hosts' `status` summaries, polled), then the etcd load:
/// keepalives renewed by the etcd leader (`etcd_debugging_lease_renewed_total`, summed over
/// the members) during the start and during a quiet window afterwards, and claims (Txn).
struct ClusterScaleRun {
    let binary: String
    let vipCount: Int
    let leaseTTL: String
    /// Seconds of the quiet window in which keepalives are counted.
    let window: Int
    /// Give up when not all active after this many seconds.
    let timeout: Int
    let keepLogs: String?
    /// Each host serves its metrics on 127.0.0.1 at this port inside its own namespace
    /// (`ip netns exec <host namespace> curl 127.0.0.1:9464/metrics` while the run goes).
    static let metricsPort = 9464

    /// What the run measured.
    struct Report: Codable {
        var vips: Int
        var units: Int
        var hosts: Int
        var leaseTTL: String
        var allActive: Bool
        var secondsToAllActive: Double?
        var activePerHost: [Int]
        var unitsPerOwner: [String: Int]
        var claimsLogged: [Int]
        var engineAppliesLogged: [Int]
        var keepalivesDuringStart: Double
        var startSeconds: Double
        var keepalivesInWindow: Double
        var windowSeconds: Int
        var keepaliveIntervalMilliseconds: Int
        var keepalivesPerHostPerInterval: Double
        var claimTransactions: Double
        var loadAverageAtStart: String
        var loadAverageAtEnd: String
    }

    func run() async throws -> Report {
        let lab = try await ClusterLab.build(hosts: 3, tag: "cs")
        var daemons: [LabProcess] = []
        do {
            let report = try await measure(lab, daemons: &daemons)
            keep(lab)
            await lab.destroy(daemons: daemons)
            return report
        } catch {
            keep(lab)
            await lab.destroy(daemons: daemons)
            throw error
        }
    }

    private func measure(_ lab: ClusterLab, daemons: inout [LabProcess]) async throws -> Report {
        let entries = lab.poolEntries(vipCount: vipCount)
        let units = (vipCount + 63) / 64
        let ttlSeconds = Int(leaseTTL.dropLast()) ?? 1
        let interval = max(100, ttlSeconds * 1000 / 4)
        let loadAtStart = LoadAverage.text()
        let renewedBefore = try await lab.etcd.metricSum("etcd_debugging_lease_renewed_total")
        let txnBefore = try await lab.etcd.metricSum("grpc_server_handled_total", matching: "grpc_method=\"Txn\"")
        FileHandle.standardError.write(Data("host namespaces \(lab.hosts), metrics on 127.0.0.1:\(Self.metricsPort) in each\n".utf8))
        let started = Date()
        for index in 0..<3 {
            daemons.append(
                // Rebalancing off: this run measures the time to all active; handovers (at most 4
                // in flight per host) would keep a few units withdrawn while the spread settles.
                try lab.startDaemon(
                    index, binary: binary, vips: entries, leaseTTL: leaseTTL, extraCluster: ClusterBenchCommand.noRebalance,
                    metricsPort: Self.metricsPort, extra: "selection:\n  block_prefix_length: 26\n"))
        }
        var counts: [ClusterHostCounts?] = [nil, nil, nil]
        var allActiveAt: Date?
        while Date().timeIntervalSince(started) < Double(timeout) {
            try await Task.sleep(for: .milliseconds(500))
            for index in 0..<3 { counts[index] = try await lab.activeVIPs(host: index, binary: binary) }
            let active = counts.reduce(0) { $0 + ($1?.active ?? 0) }
            let held = counts.reduce(0) { $0 + ($1?.vips ?? 0) }
            FileHandle.standardError.write(
                Data(String(format: "%6.1f s: active %d of %d (held %d)\n", Date().timeIntervalSince(started), active, vipCount, held).utf8))
            if active == vipCount, held == vipCount {
                allActiveAt = Date()
                break
            }
        }
        let startSeconds = Date().timeIntervalSince(started)
        let renewedAtActive = try await lab.etcd.metricSum("etcd_debugging_lease_renewed_total")
        try await Task.sleep(for: .seconds(window))
        let renewedAfter = try await lab.etcd.metricSum("etcd_debugging_lease_renewed_total")
        let txnAfter = try await lab.etcd.metricSum("grpc_server_handled_total", matching: "grpc_method=\"Txn\"")
        let inWindow = renewedAfter - renewedAtActive
        let intervals = Double(window * 1000) / Double(interval)
        func logCount(_ index: Int, _ message: String) -> Int {
            let log = (try? String(contentsOfFile: "\(lab.directory)/h\(index).log", encoding: .utf8)) ?? ""
            return log.split(separator: "\n").count { $0.hasSuffix("] \(message)") }
        }
        return Report(
            vips: vipCount, units: units, hosts: 3, leaseTTL: leaseTTL, allActive: allActiveAt != nil,
            secondsToAllActive: allActiveAt.map { $0.timeIntervalSince(started) },
            activePerHost: counts.map { $0?.active ?? 0 }, unitsPerOwner: counts.compactMap { $0 }.first?.unitsByOwner ?? [:],
            claimsLogged: (0..<3).map { logCount($0, "claimed") },
            engineAppliesLogged: (0..<3).map { logCount($0, "owned VIPs applied") },
            keepalivesDuringStart: renewedAtActive - renewedBefore, startSeconds: startSeconds,
            keepalivesInWindow: inWindow, windowSeconds: window, keepaliveIntervalMilliseconds: interval,
            keepalivesPerHostPerInterval: inWindow / 3 / intervals, claimTransactions: txnAfter - txnBefore,
            loadAverageAtStart: loadAtStart, loadAverageAtEnd: LoadAverage.text())
    }

    private func keep(_ lab: ClusterLab) {
        if let keepLogs { lab.copyDaemonLogs(to: keepLogs) }
    }
}
