import Foundation
import ProxyARPCore
import ProxyARPIO
import ProxyARPTestSupport

/// What the failover tests watch besides the client: a capture of echoes on every host
/// adapter (promiscuous, so an adapter also records requests flooded to it for another
/// MAC), and the carrier cut itself timed by the kernel's side of it.
struct FailoverWitness {
    /// The host adapters' echo captures.
    let adapterCaptures: [(adapter: HostLab.Adapter, capture: WireCapture)]
    /// When the kernel executed the cut, if `strace` is installed (``KernelCut``).
    private(set) var kernelCut: KernelCut?

    /// Starts one capture of `filter` (`icmp6` or `icmp`) on each host adapter of `lab`.
    static func start(_ lab: HostLab, filter: String, directory: String) async throws -> FailoverWitness {
        var captures: [(HostLab.Adapter, WireCapture)] = []
        for adapter in lab.adapters {
            let capture = try await WireCapture.start(
                namespace: lab.host, device: adapter.name, filter: filter, directory: directory, name: "echo-\(adapter.name)")
            captures.append((adapter, capture))
        }
        return FailoverWitness(adapterCaptures: captures)
    }

    /// Cuts the carrier of `adapter` (its bridge port goes down), timing the kernel's part
    /// when strace is installed (``HostLab/cutCarrierTimed(_:directory:)``).
    mutating func cutCarrier(_ lab: HostLab, _ adapter: HostLab.Adapter, directory: String) async throws {
        kernelCut = try await lab.cutCarrierTimed(adapter.name, directory: directory)
    }

    /// When the daemon's link monitor thread read the loss of `adapter` (carrier or admin)
    /// at or after `after`, from its debug log line `link monitor: link state read`.
    static func linkLossReadAt(in log: String, adapter: String, after: Int64) -> Int64? {
        wallTime("readAtWallNanoseconds", in: log, after: after) { line in
            line.contains("link state read") && line.contains("adapter=\(adapter) ")
                && (line.contains("carrier=false") || line.contains("adminUp=false"))
        }
    }

    /// When the link monitor's thread began announcing the standbys of the lost `adapter`
    /// (``StandbyAnnouncer``: `link lost: announced its standby agents`), at or after `after`.
    static func standbyAnnouncementBegunAt(in log: String, from adapter: String, after: Int64) -> Int64? {
        wallTime("begunAtWallNanoseconds", in: log, after: after) { line in
            line.contains("link lost: announced its standby agents") && line.contains("adapter=\(adapter) ")
        }
    }

    /// When a standby's announcement for the VIPs of the lost `adapter` had been sent, at or
    /// after `after` (`standby agent announced ahead of the control plane`).
    static func standbyAnnouncedAt(in log: String, from adapter: String, after: Int64) -> Int64? {
        wallTime("sentAtWallNanoseconds", in: log, after: after) { line in
            line.contains("standby agent announced ahead of the control plane") && line.contains("from=\(adapter) ")
        }
    }

    /// The value of `key=` (wall-clock nanoseconds) in the first daemon log line that matches
    /// and is at or after `after`.
    private static func wallTime(_ key: String, in log: String, after: Int64, where matches: (String) -> Bool) -> Int64? {
        for line in log.split(separator: "\n") where matches(String(line) + " ") {
            guard let range = line.range(of: "\(key)="), let at = Int64(line[range.upperBound...].prefix { $0.isNumber }), at >= after
            else { continue }
            return at
        }
        return nil
    }

    /// The failover's timeline and the fate of the echoes around it, in milliseconds after
    /// the kernel's cut (after `cutAt`, the test's clock before the cut command, without
    /// strace): one line to print, never asserted on.
    func report(
        ledger: EchoLedger, timeline: FailoverTimeline, daemonLog: String, oldAgent: HostLab.Adapter, cutAt: Int64,
        announcementLeftAt: Int64?, announcementReachedAt: Int64?
    ) -> String {
        let origin = kernelCut?.start ?? cutAt
        func ms(_ at: Int64?) -> String { EchoLedger.ms(at, after: origin) }
        let readAt = Self.linkLossReadAt(in: daemonLog, adapter: oldAgent.name, after: cutAt)
        let beforeRead = ledger.lost.filter { $0.echo.sentAt < readAt ?? .max }.count
        return "ms after the kernel's cut (load \(LoadAverage.text())): "
            + "cut syscall \(ms(kernelCut?.start))-\(ms(kernelCut?.end)), "
            + "last request delivered to the old agent sent \(ms(ledger.lastDelivered(to: oldAgent.mac)?.sentAt)), "
            + "first request flooded (old MAC) sent \(ms(ledger.firstFlooded(to: oldAgent.mac)?.sentAt)), "
            + "daemon's link thread read the loss \(ms(readAt)), its adapter machine got it \(ms(timeline.linkLossSeenAt)), "
            + "link thread began the standby's announcement \(ms(Self.standbyAnnouncementBegunAt(in: daemonLog, from: oldAgent.name, after: cutAt))), "
            + "logged it sent \(ms(Self.standbyAnnouncedAt(in: daemonLog, from: oldAgent.name, after: cutAt))), "
            + "VIP got its new agent \(ms(timeline.decisionDeliveredAt)), "
            + "first announcement left the new agent \(ms(announcementLeftAt)), reached the client \(ms(announcementReachedAt)), "
            + "first request to the new MAC \(ms(ledger.firstRequest(notTo: oldAgent.mac)?.sentAt)); "
            + "lost \(ledger.lost.count) (\(beforeRead) sent before the daemon read the loss): \(ledger.describeLosses(after: origin)); "
            + "echoes: \(ledger.describeEchoes(after: origin, from: -25, to: 60))"
    }

    /// Stops the captures and reads them.
    func stop() async throws -> [(name: String, mac: MACAddress, capture: CaptureFile)] {
        var files: [(name: String, mac: MACAddress, capture: CaptureFile)] = []
        for (adapter, capture) in adapterCaptures {
            files.append((adapter.name, adapter.mac, try await capture.stop()))
        }
        return files
    }
}
