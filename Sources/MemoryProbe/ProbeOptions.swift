import ProxyARPCore

/// The probe's command line: `[VIPS] [--trace-capacity N] [--settle SECONDS] [--refresh SECONDS] [--failover] [--status] [--malloc-info] [--untuned] [--stop]`.
struct ProbeOptions {
    /// VIPs to activate. Default 100,000.
    var vipCount = 100_000
    /// The trace ring's capacity. Default: the daemon's.
    var traceCapacity = DaemonSettings().traceCapacity
    /// Seconds to wait after the last activation (the later announcement rounds). Default 5.
    var settleSeconds = 5
    /// The periodic refresh announcement's interval (`timers.refresh_interval`); nil: off.
    var refreshSeconds: Int?
    /// Once settled, take h0's carrier away and report again when its VIPs moved.
    var failover = false
    /// Once settled, build and encode the control socket's `status` reply, as
    /// `proxyarpd status` makes the daemon do, and report again.
    var status = false
    /// Print glibc's `malloc_info` (per-arena free and mapped bytes) once settled.
    var mallocInfo = false
    /// Leave glibc's malloc as it is instead of tuning it as `proxyarpd run` does.
    var untuned = false
    /// Stop the engine gracefully at the end (every VIP withdraws) and report again.
    var stop = false

    init<Arguments: Collection<String>>(_ arguments: Arguments) {
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            switch argument {
            case "--trace-capacity": traceCapacity = Int(rest.popFirst() ?? "") ?? traceCapacity
            case "--settle": settleSeconds = Int(rest.popFirst() ?? "") ?? settleSeconds
            case "--refresh": refreshSeconds = Int(rest.popFirst() ?? "")
            case "--failover": failover = true
            case "--status": status = true
            case "--malloc-info": mallocInfo = true
            case "--untuned": untuned = true
            case "--stop": stop = true
            default: vipCount = Int(argument) ?? vipCount
            }
        }
    }
}
