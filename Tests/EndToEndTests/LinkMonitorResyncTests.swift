import Foundation
import Logging
import ProxyARPActors
import ProxyARPCore
import ProxyARPIO
import ProxyARPStateMachines
import ProxyARPTestSupport
import Testing

/// Issue 11, item 1: the rtnetlink monitor overflows (`ENOBUFS`) during a burst in which a
/// managed adapter is deleted and re-created and another one is renumbered; the resync
/// must feed the engine the current state, so that both are handled as without overflow.
@Suite("Link monitor overflow feeds the engine (root, in a network namespace)", .serialized, .enabled(if: getuid() == 0))
struct LinkMonitorResyncTests {
    static let m0MAC = MACAddress(0x02, 0xb0, 0, 0, 0, 0x10)

    @Test("a burst into a tiny netlink buffer: resynchronised; m0 re-created is set up again, m1's new address rebinds its VIPs")
    func burstFeedsTheEngine() async throws {
        let lab = try await LabNamespace.make("nlr")
        defer { lab.destroy() }
        try await lab.ip("link", "add", "m0", "address", Self.m0MAC.description, "type", "veth", "peer", "name", "q0")
        try await lab.ip("addr", "add", "198.18.20.10/24", "dev", "m0")
        try await lab.addVeth("m1", peer: "q1", address: "198.18.20.11/24")
        for name in ["m0", "q0"] { try await lab.ip("link", "set", name, "up") }

        // The kernel raises a 1-byte buffer to its minimum (a few KiB): two or three messages.
        let monitor = NetlinkLinkMonitor(names: ["m0", "m1"], namespacePath: lab.path, receiveBufferSize: 1)
        defer { monitor.stop() }
        let clock = SystemClock()
        let wire = InMemoryWire(clock: clock)
        wire.attach("m0", mac: Self.m0MAC, segment: "lan")
        wire.attach("m1", mac: MACAddress(0x02, 0xb0, 0, 0, 0, 0x11), segment: "lan")
        let host = RecordingHost()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let environment = EngineEnvironment(
            io: wire, host: host, clock: clock, trace: TraceLog(capacity: 100_000, clock: clock), logger: logger)
        let configuration = DaemonConfiguration(
            adapters: [AdapterConfiguration(name: "m0"), AdapterConfiguration(name: "m1")],
            vips: (100..<106).map { VIPConfiguration(address: IPv4Address("198.18.20.\($0)")!) }, timers: TimerConfiguration(holdDown: .milliseconds(500)),
            conflicts: ConflictConfiguration(probeWait: .zero))
        let engine = Engine(configuration: configuration, environment: environment, links: monitor)
        let run = Task { try await engine.run() }
        defer { run.cancel() }

        func status() async -> EngineStatus { await engine.status() }
        func eventually(_ seconds: Int = 10, _ condition: () async -> Bool) async -> Bool {
            for _ in 0..<(seconds * 20) {
                if await condition() { return true }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return await condition()
        }
        #expect(await eventually {
            let vips = await status().vips
            return vips.count == 6 && vips.allSatisfy { $0.state == "active" }
        })
        let m1VIPs = Set(await status().vips.filter { $0.agent == "m1" }.map(\.vip))
        #expect(!m1VIPs.isEmpty)

        // One `ip -batch`: 20 veth pairs of noise, m0 deleted and re-created (same name, MAC
        // and address; a new ifindex), m1 renumbered; all while the monitor's buffer holds
        // a few messages. Repeated (bounded: 3 bursts) until the kernel reported an overflow.
        for round in 0..<3 where monitor.resynchronisations == 0 {
            var lines = (0..<20).map { "link add z\(round)x\($0) type veth peer name z\(round)y\($0)\nlink set z\(round)x\($0) up\n" }
            if round == 0 {
                lines += [
                    "link del m0\n",
                    "link add m0 address \(Self.m0MAC) type veth peer name q0\n",
                    "addr add 198.18.20.10/24 dev m0\n", "link set m0 up\n", "link set q0 up\n",
                    "addr add 198.18.21.11/24 dev m1\n", "addr del 198.18.20.11/24 dev m1\n",
                ]
            }
            let file = "/tmp/\(lab.name)-\(round).batch"
            try lines.joined().write(toFile: file, atomically: true, encoding: .utf8)
            defer { unlink(file) }
            try await lab.ip("-batch", file)
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(monitor.resynchronisations >= 1, "the burst never overflowed the monitor's buffer")

        // m0: capture reopened, sysctls and agent table again, eligible after the hold-down.
        #expect(await eventually { wire.port("m0")?.reopenings == 1 })
        #expect(host.preparations["m0"] == 2)
        #expect((host.agentTableRefreshes["m0"] ?? 0) >= 1)
        #expect(await eventually { await status().adapters.first { $0.name == "m0" }?.eligible == true })
        // m1: its agent table rewritten, its VIPs record the new address.
        #expect(await eventually { (host.agentTableRefreshes["m1"] ?? 0) >= 1 })
        #expect(await eventually {
            await status().vips.filter { $0.agent == "m1" }.allSatisfy { $0.localAddress == IPv4Address("198.18.21.11") }
        })
        #expect(await eventually { await status().vips.allSatisfy { $0.state == "active" } })
        print("burst with m0 re-created and m1 renumbered: \(monitor.resynchronisations) ENOBUFS resync(s)")
        run.cancel()
        _ = await run.result
    }
}
