import Metrics
import ProxyARPCore

/// The control plane's metrics, recorded through swift-metrics on events (activation,
/// failover, announcements, conflicts): never per packet. The answer path's counters are
/// atomics in the I/O layer, exported by the daemon at scrape time.
///
/// Labels are bounded: `adapter` (the configured adapters), `state` (seven names) and
/// `family` (`ipv4`, `ipv6`). No per-VIP label. Without `MetricsSystem.bootstrap` every call is a no-op.
enum ControlPlaneMetrics {
    /// Names, shared with the daemon's exporter (which sets the histogram buckets).
    static let activationDuration = "proxyarpd_vip_activation_duration_seconds"
    static let failoverDuration = "proxyarpd_vip_failover_duration_seconds"

    /// First activation took `duration` (from the VIP's creation to `active`).
    static func activated(took duration: Duration) {
        Metrics.Timer(label: activationDuration).recordNanoseconds(duration.nanosecondsClamped)
    }

    /// A failover took `duration` (from the agent's loss to `active` on the new agent).
    static func failedOver(took duration: Duration) {
        Counter(label: "proxyarpd_failovers_total").increment()
        Metrics.Timer(label: failoverDuration).recordNanoseconds(duration.nanosecondsClamped)
    }

    /// One announcement round went out of `adapter`: a gratuitous request and an RFC 5944
    /// reply (`family` ipv4), or one unsolicited Neighbor Advertisement (ipv6).
    static func announcementSent(on adapter: AdapterName, family: AddressFamily) {
        Counter(
            label: "proxyarpd_gratuitous_arps_sent_total", dimensions: [("adapter", adapter.rawValue), ("family", family.rawValue)]
        ).increment()
    }

    /// An announcement round could not be sent from `adapter`.
    static func announcementFailed(on adapter: AdapterName, family: AddressFamily) {
        Counter(
            label: "proxyarpd_gratuitous_arp_send_errors_total",
            dimensions: [("adapter", adapter.rawValue), ("family", family.rawValue)]
        ).increment()
    }

    /// One of the agent's own announcements was heard on the wire.
    static func announcementConfirmed(agent: AdapterName, family: AddressFamily) {
        Counter(
            label: "proxyarpd_gratuitous_arps_confirmed_total",
            dimensions: [("adapter", agent.rawValue), ("family", family.rawValue)]
        ).increment()
    }

    /// Another host claimed one of our VIPs (one counted claim, however many adapters heard it).
    static func conflict() {
        Counter(label: "proxyarpd_address_conflicts_total").increment()
    }

    /// A VIP was defended against a claim (both gratuitous forms sent).
    static func defended() {
        Counter(label: "proxyarpd_conflict_defences_total").increment()
    }

    /// A VIP yielded to another host (policy `yield`).
    static func yielded() {
        Counter(label: "proxyarpd_conflict_yields_total").increment()
    }

    /// A VIP became contested (+1) or stopped being so (-1): the `proxyarpd_vips_contested` gauge.
    static func contested(_ delta: Int) {
        let meter = Meter(label: "proxyarpd_vips_contested")
        if delta > 0 { meter.increment() } else { meter.decrement() }
    }

    /// The states counted by the `proxyarpd_vips{state}` gauge. A withdrawn VIP is gone
    /// from the configuration (or the daemon stops), so it leaves the gauge.
    static let gaugedStates: Set<String> = ["pending", "broadcast", "enqueued", "active", "conflict", "failed"]

    /// Moves one VIP of `family` from state `from` to state `to` in the gauge (nil: not
    /// counted before/after).
    static func vipState(from: String?, to: String?, family: AddressFamily) {
        guard from != to else { return }
        if let from, gaugedStates.contains(from) {
            Meter(label: "proxyarpd_vips", dimensions: [("state", from), ("family", family.rawValue)]).decrement()
        }
        if let to, gaugedStates.contains(to) {
            Meter(label: "proxyarpd_vips", dimensions: [("state", to), ("family", family.rawValue)]).increment()
        }
    }
}
