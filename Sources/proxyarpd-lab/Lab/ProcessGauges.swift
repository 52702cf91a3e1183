import Foundation
import ProxyARPTestSupport

/// What `/proc` says about a running process: the bench's and the soak's gauges of the daemon.
struct ProcessGauges: Sendable, Equatable {
    /// `VmRSS`, KiB.
    var residentKiB: Int
    /// `Threads`.
    var threads: Int
    /// Entries of `/proc/PID/fd`.
    var fileDescriptors: Int

    /// Reads `/proc/PID/status` and `/proc/PID/fd`; nil when the process is gone.
    static func read(_ pid: Int32) -> ProcessGauges? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")
        else { return nil }
        var fields: [Substring: Int] = [:]
        for line in status.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == ":" || $0 == " " || $0 == "\t" })
            if parts.count >= 2, let value = Int(parts[1]) { fields[parts[0]] = value }
        }
        guard let resident = fields["VmRSS"], let threads = fields["Threads"] else { return nil }
        return ProcessGauges(residentKiB: resident, threads: threads, fileDescriptors: fds.count)
    }

    /// `count` readings `interval` apart: the steady value of each gauge is the smallest
    /// (a thread or descriptor seen in only some readings is a transient one: a libdispatch
    /// worker, a status connection, a file being written), the largest is kept too.
    /// The threads are also counted by owner (``SoakThreadKind``, from each thread's name).
    static func burst(
        _ pid: Int32, count: Int, interval: Duration
    ) async -> (steady: ProcessGauges, peak: ProcessGauges, threads: SoakThreadSample)? {
        var readings: [ProcessGauges] = []
        var threads: [SoakThreadCounts] = []
        for index in 0..<count {
            if index > 0 { try? await Task.sleep(for: interval) }
            guard let reading = read(pid) else { return nil }
            readings.append(reading)
            threads.append(SoakThreadCounts(names: threadNames(pid)))
        }
        guard let last = readings.last else { return nil }
        let steady = ProcessGauges(
            residentKiB: last.residentKiB, threads: readings.map(\.threads).min()!, fileDescriptors: readings.map(\.fileDescriptors).min()!)
        let peak = ProcessGauges(
            residentKiB: readings.map(\.residentKiB).max()!, threads: readings.map(\.threads).max()!,
            fileDescriptors: readings.map(\.fileDescriptors).max()!)
        return (steady, peak, SoakThreadSample(burst: threads))
    }

    /// Each thread's name (`/proc/PID/task/TID/comm`).
    static func threadNames(_ pid: Int32) -> [String] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.compactMap { tid in
            (try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/comm", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// The 1, 5 and 15 minute load averages (`/proc/loadavg`).
    static func loadAverage() -> [Double] {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return text.split(separator: " ").prefix(3).compactMap { Double($0) }
    }
}
