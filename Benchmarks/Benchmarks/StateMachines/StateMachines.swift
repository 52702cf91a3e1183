import Benchmark
import ProxyARPCore
import ProxyARPStateMachines

// The pure state machines' event rate. Throughput is in iterations per second; each
// iteration delivers the number of events named in the benchmark.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput], // no .instructions: on Linux it makes the harness allocate while measuring (Sources/BatchConfiguration)
        warmupIterations: 100,
        scalingFactor: .kilo,
        maxDuration: .seconds(2)
    )
    let t0 = Instant(nanoseconds: 1_000_000_000_000)
    let vip = IPv4Address(198, 18, 0, 100)
    let agent = Agent(name: "h0", mac: MACAddress(0x02, 0xa0, 0, 0, 0, 0x10), localAddress: IPv4Address(198, 18, 0, 10), confirmation: .sibling)
    let settings = VIPActivationSettings(
        announceCount: 3, announceInterval: .milliseconds(1200), confirmTimeout: .milliseconds(250),
        confirmRetries: 2, refreshInterval: nil
    )

    // pending → broadcast → enqueued → active: 4 events (create, agentSelected,
    // announcementSeen on a sibling, outboundPathBound).
    // The daemon creates its VIPs' settings once and shares them (as here); a machine
    // itself allocates nothing.
    let sharedSettings = SharedVIPActivationSettings(settings)
    Benchmark("VIP-activation-happy-path-4-events") { benchmark in
        for _ in benchmark.scaledIterations {
            var machine = VIPActivationStateMachine(vip: IPAddress(vip), sharing: sharedSettings, now: t0)
            blackHole(try machine.agentSelected(agent, decision: 1, now: t0))
            blackHole(machine.announcementSeen(on: "h1", mac: agent.mac, now: t0.advanced(by: .milliseconds(1))))
            blackHole(try machine.outboundPathBound(agent: "h0", epoch: 1, now: t0.advanced(by: .milliseconds(2))))
            blackHole(machine)
        }
    }

    // Adapter health: link up, carrier lost, carrier back (→ hold-down): 3 events on a
    // fresh machine.
    let healthSettings = AdapterHealthSettings(holdDown: .seconds(2))
    Benchmark("Adapter-health-up-down-up-3-events") { benchmark in
        for _ in benchmark.scaledIterations {
            var machine = AdapterHealthStateMachine(adapter: "h0", settings: healthSettings, now: t0)
            blackHole(machine.linkChanged(adminUp: true, carrier: true, now: t0))
            blackHole(machine.linkChanged(adminUp: true, carrier: false, now: t0.advanced(by: .seconds(1))))
            blackHole(machine.linkChanged(adminUp: true, carrier: true, now: t0.advanced(by: .seconds(2))))
            blackHole(machine)
        }
    }
}
