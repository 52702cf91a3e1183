import ArgumentParser
import Foundation
import ProxyARPActors
import ProxyARPCore
import ProxyARPDaemon
import ProxyARPIO
import ProxyARPTestSupport

/// The demo's steps, with the lab and the daemon always torn down at the end.
struct DemoScript {
    let binary: String
    let prefix: String
    let directory: String

    static let vips = ["198.18.0.100", "198.18.0.101", "198.18.0.102", "198.18.0.103", "198.18.1.100"]

    func run() async throws {
        print("== proxyarpd demo: building lab \(prefix)-{host,cli,sw} (3 host adapters and a client on one bridge)")
        let lab = try await HostLab.build(prefix: prefix)
        var daemon: LabProcess?
        do {
            daemon = try await scenario(lab) { daemon = $0 }
        } catch {
            print("demo failed: \(error)")
            await teardown(lab, daemon)
            throw error
        }
        await teardown(lab, daemon)
    }

    private func teardown(_ lab: HostLab, _ daemon: LabProcess?) async {
        if let daemon, daemon.isRunning {
            let code = await daemon.stop()
            print("== daemon stopped (exit \(code.map(String.init) ?? "signal"))")
        }
        let left = (try? await lab.lab.ip(lab.host, "-4", "addr", "show", "dev", "lo").output) ?? ""
        let leftover = Self.vips.filter { left.contains("\($0)/32") }
        print(leftover.isEmpty ? "== no VIP left on lo after shutdown" : "!! VIPs left on lo: \(leftover)")
        lab.destroy()
        print("== lab removed")
    }

    private func scenario(_ lab: HostLab, started: (LabProcess) -> Void) async throws -> LabProcess {
        let configPath = "\(directory)/proxyarpd.yaml"
        try lab.configurationYAML(vips: Self.vips, directory: directory).write(toFile: configPath, atomically: true, encoding: .utf8)
        for adapter in lab.adapters {
            print("   host adapter \(adapter.name)  \(adapter.mac)  \(adapter.address)")
        }
        print("   client \(lab.clientDevice) \(lab.clientMAC)  \(lab.clientAddresses.map(\.description).joined(separator: ", "))")
        print("   VIPs: \(Self.vips.joined(separator: ", "))")

        print("\n== starting the daemon in \(lab.host): \(binary) run --config \(configPath)")
        let daemon = try LabProcess(
            binary: binary, namespace: lab.host, arguments: ["run", "--config", configPath],
            logPath: "\(directory)/daemon.log"
        )
        started(daemon)

        print("\n== the client resolves each VIP with arping")
        var agents: [String: HostLab.Adapter] = [:]
        for vip in Self.vips {
            let address = IPv4Address(vip)!
            var answered: [MACAddress] = []
            for _ in 0..<30 where answered.isEmpty {
                try Task.checkCancellation()
                answered = try await lab.arping(address, count: 1, timeoutSeconds: 1)
            }
            let macs = Set(answered)
            let agent = answered.first.flatMap { lab.adapter(owning: $0) }
            if let agent { agents[vip] = agent }
            print("   \(vip.padding(toLength: 14, withPad: " ", startingAt: 0)) is-at \(answered.first?.description ?? "(no answer)")  agent \(agent?.name ?? "-")  (\(macs.count) distinct MAC\(macs.count == 1 ? "" : "s"))")
        }
        guard agents.count == Self.vips.count else {
            print(try String(contentsOfFile: daemon.logPath, encoding: .utf8))
            throw ValidationError("not every VIP answered")
        }

        print("\n== the client pings each VIP (the host accepts the traffic: VIP on lo, replies leave through the agent)")
        for vip in Self.vips {
            let counts = try await lab.ping(IPv4Address(vip)!, count: 3, interval: "0.2", deadlineSeconds: 5)
            print("   ping \(vip): \(counts.received)/\(counts.sent) replies")
        }

        print("\n== proxyarpd status (over the control socket)")
        let status = try await Command.run(binary, ["status", "--socket", "\(directory)/control.sock"], check: false)
        print(status.output.split(separator: "\n").map { "   \($0)" }.joined(separator: "\n"))

        let busiest = Dictionary(grouping: agents, by: { $0.value.name }).max { $0.value.count < $1.value.count }!
        let victim = busiest.key
        let watched = IPv4Address(busiest.value.map(\.key).sorted().first!)!
        print("\n== failover: \(victim) serves \(busiest.value.count) VIPs; taking its carrier away (bridge-side peer down)")
        print("   a 10 ms ping to \(watched) runs across the event; tcpdump on the client records the gratuitous ARPs")
        let capturePath = "\(directory)/client-arp.pcap"
        let capture = try LabProcess(
            binary: "tcpdump", namespace: lab.client,
            arguments: ["-i", lab.clientDevice, "--immediate-mode", "-U", "-n", "-w", capturePath, "arp"],
            logPath: "\(directory)/tcpdump.log"
        )
        try await Task.sleep(for: .milliseconds(500))
        let pinger = Task { try await lab.ping(watched, count: 400, interval: "0.01", deadlineSeconds: 10) }
        try await Task.sleep(for: .milliseconds(1000))
        let before = try await lab.clientNeighbour(watched)
        let cutAt = SystemClock().wallNanoseconds()
        try await lab.cutCarrier(victim)
        var neighbourUpdatedAt: Int64?
        var newMAC: MACAddress?
        for _ in 0..<2500 where neighbourUpdatedAt == nil {
            if let entry = try await lab.clientNeighbour(watched), entry.mac != before?.mac {
                neighbourUpdatedAt = SystemClock().wallNanoseconds()
                newMAC = entry.mac
            }
        }
        let pings = try await pinger.value
        try await Task.sleep(for: .milliseconds(300))
        await capture.stop()
        let frames = (try? CaptureFile(path: capturePath)) ?? nil
        let firstGARP = Self.firstGratuitous(in: frames, for: watched, after: cutAt, excluding: before?.mac)
        print("   client neighbour entry for \(watched): \(before?.mac.description ?? "-") -> \(newMAC?.description ?? "unchanged")  (\(newMAC.flatMap { lab.adapter(owning: $0)?.name } ?? "-"))")
        if let firstGARP {
            print(String(format: "   link down -> first gratuitous ARP from the new agent on the wire: %.2f ms", Double(firstGARP.at - cutAt) / 1e6))
        }
        if let neighbourUpdatedAt {
            print(String(format: "   link down -> client neighbour entry updated: %.2f ms (polled with ip neigh)", Double(neighbourUpdatedAt - cutAt) / 1e6))
        }
        print("   10 ms ping across the failover: \(pings.received)/\(pings.sent) replies, \(pings.sent - pings.received) lost")

        try await lab.restoreCarrier(victim)
        print("\n== \(victim) has carrier again; VIPs stay where they are (preempt is off)")
        try await Task.sleep(for: .seconds(1))
        let after = try await lab.arping(watched, count: 1, timeoutSeconds: 1)
        print("   \(watched) is-at \(after.first?.description ?? "-") (\(after.first.flatMap { lab.adapter(owning: $0)?.name } ?? "-"))")

        print("\n== state trace of \(watched) (SIGUSR1 dump, `proxyarpd trace show FILE --vip \(watched)`)")
        daemon.send(SIGUSR1)
        var dump: String?
        for _ in 0..<50 where dump == nil {
            try await Task.sleep(for: .milliseconds(100))
            let files = (try? FileManager.default.contentsOfDirectory(atPath: "\(directory)/state")) ?? []
            dump = files.filter { $0.hasPrefix("trace-") }.sorted().last.map { "\(directory)/state/\($0)" }
        }
        if let dump {
            try await Task.sleep(for: .milliseconds(200))
            let records = try TraceFile.read(dump).filter { $0.subject == .vip(.v4(watched)) }
            print(TraceTable.render(records))
        } else {
            print("   (no dump appeared)")
        }

        print("\n== daemon log (activation and failover lines)")
        let log = (try? String(contentsOfFile: daemon.logPath, encoding: .utf8)) ?? ""
        let shown = ["VIP failed over", "agent lost", "standby", "sysctl"]  // "standby": the link thread's own announcement
        for line in log.split(separator: "\n") where shown.contains(where: { line.contains($0) }) {
            print("   \(line)")
        }
        return daemon
    }

    /// The first gratuitous ARP for `vip` after `time` from a MAC other than `excluding`.
    static func firstGratuitous(in capture: CaptureFile?, for vip: IPv4Address, after time: Int64, excluding: MACAddress?) -> (at: Int64, mac: MACAddress)? {
        guard let capture else { return nil }
        for (frame, at) in zip(capture.frames, capture.timestamps) where at >= time {
            guard case .arp(let parsed) = FrameParser.parse(frame), parsed.isGratuitous,
                parsed.arp.senderIP == vip, parsed.arp.senderMAC != excluding
            else { continue }
            return (at, parsed.arp.senderMAC)
        }
        return nil
    }
}
