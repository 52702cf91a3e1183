import Foundation

/// When the kernel dropped a carrier: the `RTM_NEWLINK` `sendmsg` of `ip link set PORT down`,
/// which started at `start` and returned at `end` (ns since the epoch, microsecond resolution,
/// from `strace -ttt -T`). The carrier went down between the two.
public struct KernelCut: Sendable, Equatable {
    /// When the kernel call began.
    public var start: Int64
    /// When it returned.
    public var end: Int64

    /// The `RTM_NEWLINK` sendmsg of an `strace -ttt -T` log:
    /// `1764430000.123456 sendmsg(3, {... type=RTM_NEWLINK ...}, 0) = 32 <0.000123>`.
    public init?(straceLog log: String) {
        for line in log.split(separator: "\n") where line.contains("RTM_NEWLINK") {
            let words = line.split(separator: " ")
            guard let first = words.first, let seconds = Double(first), let last = words.last, last.hasPrefix("<"),
                let duration = Double(last.dropFirst().dropLast())
            else { continue }
            start = Int64((seconds * 1e6).rounded()) * 1_000
            end = start + Int64((duration * 1e6).rounded()) * 1_000
            return
        }
        return nil
    }
}

extension HostLab {
    /// Cuts the carrier of the host adapter `name` (``cutCarrier(_:)``), under `strace` when
    /// it is installed, and returns when the kernel did it (nil without strace): failover
    /// latencies then start at the cut itself, not at the start of the `ip` process (a few
    /// ms of fork and exec). `directory` holds the strace log.
    public func cutCarrierTimed(_ name: String, directory: String) async throws -> KernelCut? {
        let strace = "/usr/bin/strace"
        guard FileManager.default.isExecutableFile(atPath: strace), let port = adapter(name)?.switchPort else {
            try await cutCarrier(name)
            return nil
        }
        let log = "\(directory)/cut-\(name).strace"
        try await lab.exec(fabric, strace, ["-ttt", "-T", "-e", "trace=sendmsg", "-o", log, "ip", "link", "set", port, "down"])
        return KernelCut(straceLog: (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }
}
