import Logging
import ProxyARPActors
import ProxyARPCore
import ProxyARPStateMachines
import ProxyARPTestSupport
import ServiceLifecycleTestKit
import Synchronization

/// A running engine over an in-memory wire, scripted links and a manual clock.
struct EngineLab {
    static let lan = "lan"
    static let adapters: [(AdapterName, MACAddress, IPv4Interface)] = [
        ("eth0", MACAddress(0x02, 0, 0, 0, 0x01, 0x01), IPv4Interface("198.18.0.10/24")!),
        ("eth1", MACAddress(0x02, 0, 0, 0, 0x01, 0x02), IPv4Interface("198.18.0.11/24")!),
        ("eth2", MACAddress(0x02, 0, 0, 0, 0x01, 0x03), IPv4Interface("198.18.1.10/24")!),
    ]

    let clock = ManualClock()
    let wire: InMemoryWire
    let links = ScriptedLinks()
    let host = RecordingHost()
    let trace: TraceLog
    let engine: Engine
    let runTask: Task<Void, any Error>
    private let shutdown = ShutdownTrigger()
    var expectedVIPs: Int

    init(
        vips: [VIPConfiguration], timers: TimerConfiguration = TimerConfiguration(), daemon: DaemonSettings = DaemonSettings(),
        conflicts: ConflictConfiguration = ConflictConfiguration(probeWait: .zero),
        leftovers: [IPAddress: AdapterName] = [:], wakesEarly: Bool = false, logHandler: (any LogHandler)? = nil
    ) {
        expectedVIPs = vips.count
        host.leaveBehind(leftovers)
        wire = InMemoryWire(clock: clock)
        trace = TraceLog(capacity: 1_000_000, clock: clock)
        var logger = logHandler.map { handler in Logger(label: "test") { _ in handler } } ?? Logger(label: "test")
        logger.logLevel = logHandler?.logLevel ?? .critical
        let engineClock: any EngineClock = wakesEarly ? EarlyWakingClock(base: clock) : clock
        let environment = EngineEnvironment(io: wire, host: host, clock: engineClock, trace: trace, logger: logger)
        let configuration = DaemonConfiguration(
            adapters: Self.adapters.map { AdapterConfiguration(name: $0.0) }, vips: vips, timers: timers, daemon: daemon,
            conflicts: conflicts
        )
        engine = Engine(configuration: configuration, environment: environment, links: links)
        for (name, mac, _) in Self.adapters { wire.attach(name, mac: mac, segment: Self.lan) }
        let engine = self.engine
        let shutdown = self.shutdown
        runTask = Task {
            try await testGracefulShutdown { trigger in
                shutdown.trigger.withLock { $0 = trigger }
                try await engine.run()
            }
        }
    }

    static func mac(of adapter: AdapterName) -> MACAddress { adapters.first { $0.0 == adapter }!.1 }

    /// Reports a link as rtnetlink would: by default with its lab ifindex and address.
    func link(
        _ name: AdapterName, adminUp: Bool = true, carrier: Bool = true, index: Int32? = nil, interfaces: [IPv4Interface]? = nil
    ) {
        let (_, mac, interface) = Self.adapters.first { $0.0 == name }!
        let index = index ?? Int32(Self.adapters.firstIndex { $0.0 == name }! + 2)
        links.emit(.changed(LinkState(
            name: name, index: index, mac: mac, adminUp: adminUp, carrier: carrier, interfaces: interfaces ?? [interface],
            ipv6Prefixes: Self.ipv6Prefixes[name].map { [$0] } ?? [])))
    }

    /// The adapters' IPv6 prefixes: eth0 and eth1 on 2001:db8::/64, eth2 on 2001:db8:1::/64.
    static let ipv6Prefixes: [AdapterName: IPv6Prefix] = [
        "eth0": IPv6Prefix("2001:db8::10/64")!, "eth1": IPv6Prefix("2001:db8::11/64")!, "eth2": IPv6Prefix("2001:db8:1::10/64")!,
    ]

    func allLinksUp() {
        for (name, _, _) in Self.adapters { link(name) }
    }

    /// Waits (bounded: `iterations` short real sleeps) until `condition` holds.
    @discardableResult
    func eventually(_ iterations: Int = 3000, _ condition: () async -> Bool) async -> Bool {
        for _ in 0..<iterations {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(1))
        }
        return await condition()
    }

    func status() async -> EngineStatus { await engine.status() }

    /// True when every configured VIP exists and satisfies `condition`.
    func vipsSatisfy(_ condition: (VIPStatus) -> Bool) async -> Bool {
        let vips = await engine.status().vips
        return vips.count == expectedVIPs && vips.allSatisfy(condition)
    }

    /// Advances the manual clock in `step`s, letting actors run between steps.
    func advance(_ total: Duration, step: Duration = .milliseconds(50)) async {
        var elapsed = Duration.zero
        while elapsed < total {
            clock.advance(by: step)
            elapsed += step
            for _ in 0..<5 { try? await Task.sleep(for: .milliseconds(1)) }
        }
    }

    func stop() async {
        runTask.cancel()
        _ = await runTask.result
    }

    /// Stops as the daemon does on SIGTERM: a graceful shutdown, not a cancellation.
    func stopGracefully() async {
        for _ in 0..<1_000 where shutdown.trigger.withLock({ $0 == nil }) { try? await Task.sleep(for: .milliseconds(1)) }
        shutdown.trigger.withLock { $0 }?.triggerGracefulShutdown()
        _ = await runTask.result
    }
}

/// A clock whose first sleep to each deadline returns 1 ms early, as a task sleep on a
/// different clock than the one `now()` reads may; later sleeps to it are exact.
private final class EarlyWakingClock: EngineClock {
    let base: ManualClock
    private let seen = Mutex<Set<Instant>>([])

    init(base: ManualClock) { self.base = base }

    func now() -> Instant { base.now() }
    func wallNanoseconds() -> Int64 { base.wallNanoseconds() }
    func sleep(until deadline: Instant) async throws {
        let first = seen.withLock { $0.insert(deadline).inserted }
        try await base.sleep(until: first ? deadline.advanced(by: .milliseconds(-1)) : deadline)
    }
}

/// The graceful-shutdown trigger of a lab's run task, once it runs.
private final class ShutdownTrigger: Sendable {
    let trigger = Mutex<GracefulShutdownTestTrigger?>(nil)
}

/// `count` VIPs starting at `first`.
func vipRange(_ first: String, count: Int, preferred: [AdapterName] = [], preempt: Bool = false) -> [VIPConfiguration] {
    let start = IPv4Address(first)!
    return (0..<count).map {
        VIPConfiguration(address: start.advanced(by: UInt32($0))!, preferred: preferred, preempt: preempt)
    }
}

/// A broadcast ARP request from a client for the IPv4 VIP `target`.
func arpRequest(from mac: MACAddress, ip: IPv4Address, for target: IPAddress) -> [UInt8] {
    arpRequest(from: mac, ip: ip, for: target.ipv4!)
}

/// A broadcast ARP request from a client.
func arpRequest(from mac: MACAddress, ip: IPv4Address, for target: IPv4Address) -> [UInt8] {
    ARPFrame(
        ethernet: EthernetHeader(destination: .broadcast, source: mac, tags: VLANTags(), etherType: EtherType.arp),
        arp: ARPPacket(operation: .request, senderMAC: mac, senderIP: ip, targetMAC: .zero, targetIP: target)
    ).bytes
}
