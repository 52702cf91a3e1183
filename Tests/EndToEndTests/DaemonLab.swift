import Foundation
import ProxyARPActors
import ProxyARPCore
import ProxyARPIO
import ProxyARPStateMachines
import ProxyARPTestSupport
import Testing

/// True when the end-to-end tests can run: root (namespaces) and the daemon binary built.
let endToEndEnabled = getuid() == 0 && FileManager.default.isExecutableFile(atPath: DaemonLab.binary)

/// The real daemon running in a fresh ``HostLab``, with its config, log and state in a
/// temporary directory. ``with(_:vips:timers:prepare:_:)`` always tears it all down.
struct DaemonLab {
    /// `.build/<triple>/debug/proxyarpd`, next to the test bundle, or `PROXYARPD_E2E_DAEMON`
    /// (e.g. a release build, or an older build to show a test failing before a fix).
    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["PROXYARPD_E2E_DAEMON"] { return path }
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        return URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("proxyarpd").path
    }()

    /// `.build/<triple>/debug/proxyarpd-lab` (its `inject` sends captured frames).
    static let labBinary: String = URL(fileURLWithPath: binary).deletingLastPathComponent().appendingPathComponent("proxyarpd-lab").path

    let lab: HostLab
    let daemon: LabProcess
    let directory: String
    let vips: [IPv4Address]
    /// A client capture started before the daemon, when asked for.
    let startupCapture: ClientCapture?

    var configPath: String { "\(directory)/proxyarpd.yaml" }
    /// The control socket the lab's config names.
    var socketPath: String { "\(directory)/control.sock" }

    /// Builds a lab with prefix `tag`, lets `prepare` change it, writes a config for `vips`,
    /// starts the daemon, runs `body`, and always stops the daemon and removes the lab.
    static func with<T>(
        _ tag: String, vips: [String], timers: [String: String] = [:], extraConfig: String = "", controlGroup: String? = nil,
        captureFromStart: Bool = false, environment: [String: String] = [:], fastPath: String? = nil,
        prepare: (HostLab, String) async throws -> Void = { _, _ in },
        _ body: (DaemonLab) async throws -> T
    ) async throws -> T {
        let prefix = NetnsLab.uniquePrefix(tag)
        let directory = NSTemporaryDirectory() + "proxyarpd-e2e-\(prefix)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var lab = try await HostLab.build(prefix: prefix)
        var running: DaemonLab?
        do {
            try await givePeersPassPrograms(&lab, directory: directory)
            try await prepare(lab, directory)
            let capture = captureFromStart ? try await ClientCapture.start(lab, directory: directory, name: "startup") : nil
            let io = fastPath.map { "io:\n  fast_path: \($0)\n" } ?? ""
            var yaml = lab.configurationYAML(vips: vips, directory: directory, timers: timers, extra: extraConfig + io)
            if let controlGroup {
                yaml = yaml.replacingOccurrences(
                    of: "  socket: \(directory)/control.sock\n", with: "  socket: \(directory)/control.sock\n  group: \(controlGroup)\n"
                )
            }
            try yaml.write(toFile: "\(directory)/proxyarpd.yaml", atomically: true, encoding: .utf8)
            // `env` execs the daemon in place: the PID stays the daemon's.
            let daemon = try LabProcess(
                binary: "/usr/bin/env", namespace: lab.host,
                arguments: environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } + [binary, "run", "--config", "\(directory)/proxyarpd.yaml", "--log-level", "debug"],
                logPath: "\(directory)/daemon.log"
            )
            let expanded = vips.filter { !$0.contains("-") && !$0.contains("/") }.compactMap { IPv4Address($0) }
            running = DaemonLab(lab: lab, daemon: daemon, directory: directory, vips: expanded, startupCapture: capture)
            let result = try await body(running!)
            await running!.teardown()
            return result
        } catch {
            if let running {
                let log = (try? String(contentsOfFile: running.daemon.logPath, encoding: .utf8)) ?? ""
                Issue.record("daemon log:\n\(log.suffix(6000))")
                await running.teardown()
            } else {
                lab.destroy()
            }
            throw error
        }
    }

    /// The lab's bridge-side veth peers get the object's XDP_PASS program: a veth delivers
    /// the daemon's XDP_TX replies (driver mode) only to a peer with an XDP program of its own.
    static func givePeersPassPrograms(_ lab: inout HostLab, directory: String) async throws {
        let object = "\(directory)/proxyarp.bpf.o"
        try Data(XDPObject.bytes).write(to: URL(fileURLWithPath: object))
        try await lab.runOnSwitchPorts(object: object, program: XDPObject.passProgramName)
    }

    /// The XDP programs attached to the host adapter `name`: `(id, name)` from `ip -d link`.
    func xdpPrograms(on name: String) async throws -> [String] {
        let output = try await lab.lab.ip(lab.host, "-d", "link", "show", "dev", name).output
        return output.split(separator: "\n").filter { $0.contains("prog/xdp") }.map { String($0.trimmingCharacters(in: .whitespaces)) }
    }

    func teardown() async {
        if let startupCapture, startupCapture.process.isRunning { await startupCapture.process.stop() }
        if daemon.isRunning { await daemon.stop() }
        lab.destroy()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Arpings each VIP until it answers (bounded: `attempts` one-second tries each);
    /// returns the MACs that answered the last successful arping.
    func waitForAnswers(_ addresses: [IPv4Address], attempts: Int = 20) async throws -> [IPv4Address: [MACAddress]] {
        var answers: [IPv4Address: [MACAddress]] = [:]
        for address in addresses {
            for _ in 0..<attempts {
                let macs = try await lab.arping(address, count: 1, timeoutSeconds: 1)
                if !macs.isEmpty {
                    answers[address] = macs
                    break
                }
            }
        }
        return answers
    }

    /// The daemon's log so far.
    var log: String { (try? String(contentsOfFile: daemon.logPath, encoding: .utf8)) ?? "" }

    /// Asks for a trace dump (SIGUSR1) and reads it (bounded wait).
    func dumpTrace() async throws -> [MachineTraceRecord] {
        let stateDirectory = "\(directory)/state"
        let before = Set((try? FileManager.default.contentsOfDirectory(atPath: stateDirectory)) ?? [])
        daemon.send(SIGUSR1)
        for _ in 0..<50 {
            try await Task.sleep(for: .milliseconds(100))
            let files = Set((try? FileManager.default.contentsOfDirectory(atPath: stateDirectory)) ?? [])
            if let new = files.subtracting(before).filter({ $0.hasPrefix("trace-") && $0.hasSuffix(".jsonl") }).sorted().last {
                try await Task.sleep(for: .milliseconds(100))
                return try TraceFile.read("\(stateDirectory)/\(new)")
            }
        }
        throw LabFailure("no trace dump appeared after SIGUSR1")
    }

    /// VIPs currently on the host's `lo`.
    func loopbackVIPs() async throws -> Set<IPv4Address> {
        let output = try await lab.lab.ip(lab.host, "-4", "-o", "addr", "show", "dev", "lo").output
        return Set(output.split(separator: "\n").compactMap { line -> IPv4Address? in
            guard let field = line.split(separator: " ").first(where: { $0.hasSuffix("/32") }) else { return nil }
            return IPv4Address(String(field.dropLast(3)))
        })
    }
}

/// A lab step that did not happen.
struct LabFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Starts tcpdump for ARP on the client; `stop()` returns the frames with timestamps.
struct ClientCapture {
    let process: LabProcess
    let path: String

    static func start(_ lab: HostLab, directory: String, name: String) async throws -> ClientCapture {
        let wire = try await WireCapture.start(
            namespace: lab.client, device: lab.clientDevice, filter: "arp or (vlan and arp)", directory: directory, name: name)
        return ClientCapture(process: wire.process, path: wire.path)
    }

    func stop() async throws -> CaptureFile {
        try await Task.sleep(for: .milliseconds(200))
        await process.stop()
        return try CaptureFile(path: path)
    }
}

extension CaptureFile {
    /// The parsed ARP frames with their capture time.
    var arpFrames: [(at: Int64, frame: ARPFrame)] {
        zip(frames, timestamps).compactMap { bytes, at in
            guard case .arp(let frame) = FrameParser.parse(bytes) else { return nil }
            return (at, frame)
        }
    }
}
