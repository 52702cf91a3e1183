import ArgumentParser
import CMalloc
import Logging
import ProxyARPActors
import ProxyARPControl
import ProxyARPCore
import ProxyARPIO
import ProxyARPTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `proxyarpd-lab memory-probe`: activates N VIPs in one process (the real engine, actors
/// and selector over TestSupport's in-memory wire keeping no frames, a host that records
/// nothing, scripted links and the real clock) and prints the process's memory at each
/// stage, so that the memory per VIP can be measured without a network lab.
///
///     swift build -c release --product proxyarpd-lab
///     .build/release/proxyarpd-lab memory-probe [VIPS] [--trace-capacity N] [--settle SECONDS] [--refresh SECONDS] [--failover] [--status] [--malloc-info] [--untuned] [--stop]
///
/// Also a target for `valgrind --tool=massif` or `heaptrack`.
struct MemoryProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory-probe",
        abstract: "Activate N VIPs in this process over an in-memory segment and print its memory at each stage."
    )

    @Argument(help: "VIPs to activate.") var vips = 100_000
    @Option(help: "The trace ring's capacity (default: the daemon's).") var traceCapacity = DaemonSettings().traceCapacity
    @Option(help: "Seconds to wait after the last activation (the later announcement rounds).") var settle = 5
    @Option(help: "timers.refresh_interval in seconds (default: off).") var refresh: Int?
    @Flag(help: "Once settled, take h0's carrier away and report again when its VIPs moved.") var failover = false
    @Flag(help: "Once settled, build and encode the control socket's status reply, as `proxyarpd status` makes the daemon do.")
    var status = false
    @Flag(help: "Print glibc's malloc_info (per-arena free and mapped bytes) once settled.") var mallocInfo = false
    @Flag(help: "Leave glibc's malloc as it is instead of tuning it as `proxyarpd run` does.") var untuned = false
    @Flag(help: "Stop the engine gracefully at the end (every VIP withdraws) and report again.") var stop = false

    /// The segment's adapters.
    static let ports: [(name: AdapterName, mac: MACAddress, interface: IPv4Interface)] = [
        ("h0", MACAddress(0x02, 0xa0, 0, 0, 0, 0x10), IPv4Interface("198.18.0.10/24")!),
        ("h1", MACAddress(0x02, 0xa0, 0, 0, 0, 0x11), IPv4Interface("198.18.0.11/24")!),
        ("h2", MACAddress(0x02, 0xa0, 0, 0, 0, 0x12), IPv4Interface("198.18.1.10/24")!),
    ]

    /// Prints `stage` with the memory now and, after `baseline`, the growth per VIP.
    @discardableResult
    func report(_ stage: String, since baseline: ProcessMemory? = nil) -> ProcessMemory {
        let memory = ProcessMemory.read()
        var line = "\(stage): \(memory)"
        if let baseline, vips > 0 {
            let rss = (memory.residentKiB - baseline.residentKiB) * 1024 / vips
            let heap = (memory.heapInUse - baseline.heapInUse) / vips
            line += " | per VIP: rss \(rss) B, heap \(heap) B"
        }
        print(line)
        return memory
    }

    func run() async throws {
        if !untuned { proxyarpd_tune_malloc() }  // as `proxyarpd run` does
        let clock = SystemClock()
        report("start")
        let first = IPv4Address("198.19.0.1")!
        let configuration = DaemonConfiguration(
            adapters: Self.ports.map { AdapterConfiguration(name: $0.name) },
            vips: (0..<vips).map { VIPConfiguration(address: first.advanced(by: UInt32($0))!) },
            timers: TimerConfiguration(refreshInterval: refresh.map { .seconds($0) }),
            daemon: DaemonSettings(traceCapacity: traceCapacity)
        )
        let configured = report("configured (\(vips) VIPs, trace capacity \(traceCapacity))")

        let wire = InMemoryWire(clock: clock, keepsSentFrames: false)
        for port in Self.ports { wire.attach(port.name, mac: port.mac, segment: "lan") }
        let linkStates = Self.ports.enumerated().map { index, port in
            LinkState(
                name: port.name, index: Int32(index + 2), mac: port.mac, adminUp: true, carrier: true,
                interfaces: [port.interface]
            )
        }
        let links = ScriptedLinks()
        for link in linkStates { links.emit(.changed(link)) }
        let logger = Logger(label: "memory-probe") { _ in ActivationCounter() }
        let trace = TraceLog(capacity: traceCapacity, clock: clock)
        let environment = EngineEnvironment(io: wire, host: RecordingHost(records: false), clock: clock, trace: trace, logger: logger)
        let engine = Engine(configuration: configuration, environment: environment, links: links)
        let running = Task { try await engine.run() }

        let began = clock.now()
        var lastPrinted = began
        while ActivationCounter.active.load(ordering: .relaxed) < vips {
            try await Task.sleep(for: .milliseconds(100))
            if clock.now().duration(since: lastPrinted) >= .seconds(5) {
                lastPrinted = clock.now()
                report("  \(ActivationCounter.active.load(ordering: .relaxed)) active")
            }
        }
        print("all \(vips) active after \(clock.now().duration(since: began))")
        report("active", since: configured)
        try await Task.sleep(for: .seconds(settle))
        report("settled \(settle) s", since: configured)
        print("trace: \(trace.records(after: .max).latest) records written, \(trace.dropped) dropped")
        if failover {
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
            report("failed over", since: configured)
            try await Task.sleep(for: .seconds(settle))
            report("settled \(settle) s", since: configured)
        }
        if status {
            // The default reply (a summary above 1,000 VIPs), then `status --all`; each timed
            // from asking the engine to the encoded line, as the control server does it.
            let requests = [("status", ControlRequest.status), ("status --all", ControlRequest(command: .status, all: true))]
            for (name, request) in requests {
                let started = ContinuousClock.now
                let (engineStatus, summary) = await StatusSelection.engineStatus(for: request, engine: engine)
                var reply = StatusReport(engine: engineStatus, io: [], monotonicNanoseconds: 0, wallNanoseconds: 0)
                reply.summary = summary
                let line = try ControlCodec.lineBytes(ControlReply(ok: true, status: reply))
                let took = ContinuousClock.now - started
                report("\(name) reply (\(line.count) bytes in \(took))", since: configured)
            }
            try await Task.sleep(for: .seconds(1))
            report("after status", since: configured)
        }
        if mallocInfo { fflush(nil); malloc_info(0, fdopen(1, "w")) }
        malloc_trim(0)
        report("after malloc_trim", since: configured)
        if stop {
            // Graceful stop: every VIP withdraws. The peak (hwm) then includes the shutdown.
            running.cancel()
            _ = try? await running.value
            report("stopped", since: configured)
        }
        // Without --stop the process exits with everything live: heaptrack's "leaked" is then the
        // steady state, and its peak the activation's.
        Glibc.exit(0)
    }
}
