import Foundation

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

    /// The 1, 5 and 15 minute load averages (`/proc/loadavg`).
    static func loadAverage() -> [Double] {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return text.split(separator: " ").prefix(3).compactMap { Double($0) }
    }
}
