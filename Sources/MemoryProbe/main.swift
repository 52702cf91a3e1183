// memory-probe: activates N VIPs in one process (the real engine, actors and selector over
// an in-memory segment, a no-op host and the real clock) and prints the process's memory
// at each stage, so that the memory per VIP can be measured without a network lab.
//
//     swift build -c release --product memory-probe
//     .build/release/memory-probe [VIPS] [--trace-capacity N] [--settle SECONDS] [--refresh SECONDS] [--failover] [--status] [--malloc-info] [--untuned] [--stop]
//
// Also a target for `valgrind --tool=massif` or `heaptrack`.
import Logging
import ProxyARPActors
import ProxyARPControl
import ProxyARPCore
import ProxyARPIO
import CMalloc
#if canImport(Glibc)
import Glibc
#endif

let options = ProbeOptions(CommandLine.arguments.dropFirst())
if !options.untuned { proxyarpd_tune_malloc() }  // as `proxyarpd run` does
let vipCount = options.vipCount
let traceCapacity = options.traceCapacity
let settleSeconds = options.settleSeconds

func report(_ stage: String, since baseline: ProcessMemory? = nil) -> ProcessMemory {
    let memory = ProcessMemory.read()
    var line = "\(stage): \(memory)"
    if let baseline, vipCount > 0 {
        let rss = (memory.residentKiB - baseline.residentKiB) * 1024 / vipCount
        let heap = (memory.heapInUse - baseline.heapInUse) / vipCount
        line += " | per VIP: rss \(rss) B, heap \(heap) B"
    }
    print(line)
    return memory
}

let clock = SystemClock()
let ports: [(name: AdapterName, mac: MACAddress, interface: IPv4Interface)] = [
    ("h0", MACAddress(0x02, 0xa0, 0, 0, 0, 0x10), IPv4Interface("198.18.0.10/24")!),
    ("h1", MACAddress(0x02, 0xa0, 0, 0, 0, 0x11), IPv4Interface("198.18.0.11/24")!),
    ("h2", MACAddress(0x02, 0xa0, 0, 0, 0, 0x12), IPv4Interface("198.18.1.10/24")!),
]
let start = report("start")
let first = IPv4Address("198.19.0.1")!
let vips = (0..<vipCount).map { VIPConfiguration(address: first.advanced(by: UInt32($0))!) }
let configuration = DaemonConfiguration(
    adapters: ports.map { AdapterConfiguration(name: $0.name) }, vips: vips,
    timers: TimerConfiguration(refreshInterval: options.refreshSeconds.map { .seconds($0) }),
    daemon: DaemonSettings(traceCapacity: traceCapacity)
)
let configured = report("configured (\(vipCount) VIPs, trace capacity \(traceCapacity))")

let wire = SegmentWire(ports: ports.map { ($0.name, $0.mac) }, clock: clock)
let linkStates = ports.enumerated().map { index, port in
    LinkState(
        name: port.name, index: Int32(index + 2), mac: port.mac, adminUp: true, carrier: true,
        interfaces: [port.interface]
    )
}
let links = ProbeLinks(linkStates)
let logger = Logger(label: "memory-probe") { _ in ActivationCounter() }
let trace = TraceLog(capacity: traceCapacity, clock: clock)
let environment = EngineEnvironment(io: wire, host: NullHost(), clock: clock, trace: trace, logger: logger)
let engine = Engine(configuration: configuration, environment: environment, links: links)
let running = Task { try await engine.run() }

let began = clock.now()
var lastPrinted = began
while ActivationCounter.active.load(ordering: .relaxed) < vipCount {
    try await Task.sleep(for: .milliseconds(100))
    if clock.now().duration(since: lastPrinted) >= .seconds(5) {
        lastPrinted = clock.now()
        _ = report("  \(ActivationCounter.active.load(ordering: .relaxed)) active")
    }
}
print("all \(vipCount) active after \(clock.now().duration(since: began))")
_ = report("active", since: configured)
try await Task.sleep(for: .seconds(settleSeconds))
_ = report("settled \(settleSeconds) s", since: configured)
print("trace: \(trace.records(after: .max).latest) records written, \(trace.dropped) dropped")
if options.failover {
    // h0 loses carrier: its VIPs move to h1 and h2 at once (through the pacer).
    var lost = linkStates[0]
    lost.carrier = false
    let failoverBegan = clock.now()
    links.emit(.changed(lost))
    while ActivationCounter.moving.load(ordering: .relaxed) == 0
        || ActivationCounter.failedOver.load(ordering: .relaxed) < ActivationCounter.moving.load(ordering: .relaxed)
    {
        try await Task.sleep(for: .milliseconds(100))
        if clock.now().duration(since: failoverBegan) > .seconds(600) { break }
    }
    print("\(ActivationCounter.failedOver.load(ordering: .relaxed)) of \(ActivationCounter.moving.load(ordering: .relaxed)) VIPs failed over after \(clock.now().duration(since: failoverBegan))")
    _ = report("failed over", since: configured)
    try await Task.sleep(for: .seconds(settleSeconds))
    _ = report("settled \(settleSeconds) s", since: configured)
}
if options.status {
    for round in 1...2 {
        let reply = ControlReply(
            ok: true,
            status: StatusReport(engine: await engine.status(), io: [], monotonicNanoseconds: 0, wallNanoseconds: 0)
        )
        let line = try ControlCodec.lineBytes(reply)  // as the control server sends it
        _ = report("status reply \(round) (\(line.count) bytes)", since: configured)
    }
    try await Task.sleep(for: .seconds(1))
    _ = report("after status", since: configured)
}
if options.mallocInfo { fflush(nil); malloc_info(0, fdopen(1, "w")) }
malloc_trim(0)
_ = report("after malloc_trim", since: configured)
_ = start
if options.stop {
    // Graceful stop: every VIP withdraws. The peak (hwm) then includes the shutdown.
    running.cancel()
    _ = try? await running.value
    _ = report("stopped", since: configured)
}
// Without --stop the process exits with everything live: heaptrack's "leaked" is then the
// steady state, and its peak the activation's.
exit(0)
