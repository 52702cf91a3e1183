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
///     .build/release/proxyarpd-lab memory-probe [VIPS] [--family ipv4|ipv6] [--trace-capacity N] [--settle SECONDS] [--refresh SECONDS] [--failover] [--status] [--malloc-info] [--untuned] [--stop]
///
/// Also a target for `valgrind --tool=massif` or `heaptrack`.
struct MemoryProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory-probe",
        abstract: "Activate N VIPs in this process over an in-memory segment and print its memory at each stage."
    )

    /// The address family of the probe's VIPs.
    enum Family: String, ExpressibleByArgument, CaseIterable {
        /// IPv4 VIPs from 198.19.0.1 on (answered with ARP).
        case ipv4
        /// IPv6 VIPs from 2001:db8:ff::1 on (answered with Neighbor Discovery).
        case ipv6
    }

    @Argument(help: "VIPs to activate.") var vips = 100_000
    @Option(help: "ipv4 (from 198.19.0.1) or ipv6 (from 2001:db8:ff::1): the VIPs' family.") var family = Family.ipv4
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
    /// The adapters' IPv6 prefixes (the lab's: h0 and h1 share one, h2 has its own).
    static let ipv6Prefixes = [IPv6Prefix("2001:db8::/64")!, IPv6Prefix("2001:db8::/64")!, IPv6Prefix("2001:db8:0:1::/64")!]

    /// The probe's `index`th VIP, outside every adapter's subnet (as the IPv4 ones).
    func vip(_ index: Int) -> VIPConfiguration {
        switch family {
        case .ipv4: VIPConfiguration(address: IPv4Address("198.19.0.1")!.advanced(by: UInt32(index))!)
        case .ipv6: VIPConfiguration(address: IPv6Address("2001:db8:ff::1")!.advanced(by: UInt64(index))!)
        }
    }

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
        let configuration = DaemonConfiguration(
            adapters: Self.ports.map { AdapterConfiguration(name: $0.name) },
            vips: (0..<vips).map(vip),
            timers: TimerConfiguration(refreshInterval: refresh.map { .seconds($0) }),
            daemon: DaemonSettings(traceCapacity: traceCapacity)
        )
        let configured = report("configured (\(vips) \(family) VIPs, trace capacity \(traceCapacity))")

        let wire = InMemoryWire(clock: clock, keepsSentFrames: false)
        for port in Self.ports { wire.attach(port.name, mac: port.mac, segment: "lan") }
        let linkStates = Self.ports.enumerated().map { index, port in
            LinkState(
                name: port.name, index: Int32(index + 2), mac: port.mac, adminUp: true, carrier: true,
                interfaces: [port.interface], ipv6Prefixes: [Self.ipv6Prefixes[index]]
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
