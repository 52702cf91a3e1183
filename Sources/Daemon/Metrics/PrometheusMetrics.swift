import CoreMetrics
import ProxyARPCore
import ProxyARPIO
import Prometheus
import Synchronization

/// The daemon's Prometheus registry: swift-metrics is bootstrapped onto it (for the
/// control plane's events), and the answer path's atomic counters are copied into it at
/// scrape time (never per packet).
final class PrometheusMetrics: Sendable {
    /// Buckets of the activation and failover duration histograms: 0.5 ms to 10 s.
    static let durationBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    let registry: PrometheusCollectorRegistry

    private struct Exported {
        /// The last value copied per (metric, adapter, reason), for the counter deltas.
        var last: [String: UInt64] = [:]
    }

    private let exported = Mutex(Exported())

    /// The exporter over `registry` (the daemon's, or a test's).
    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    /// Creates the registry and bootstraps swift-metrics onto it. Call once, before the
    /// engine's actors exist (handles made earlier stay no-ops).
    static func bootstrap() -> PrometheusMetrics {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(factory(over: registry))
        return PrometheusMetrics(registry: registry)
    }

    /// The swift-metrics factory the control plane records through: timers become
    /// histograms with ``durationBuckets``.
    static func factory(over registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = durationBuckets
        factory.durationHistogramBuckets = [
            "proxyarpd_vip_activation_duration_seconds": durationBuckets,
            "proxyarpd_vip_failover_duration_seconds": durationBuckets,
        ]
        return factory
    }

    /// The text exposition: the answer path's counters are brought up to date first.
    func scrape(io: PcapFrameIO) -> [UInt8] {
        scrape(
            counters: io.counters(), droppedObservations: io.droppedObservations,
            droppedObservationBatches: io.droppedObservationBatches
        )
    }

    /// The text exposition after copying these answer-path counters (totals since start).
    func scrape(counters snapshots: [AdapterCounterSnapshot], droppedObservations: UInt64, droppedObservationBatches: UInt64) -> [UInt8] {
        var buffer: [UInt8] = []
        exported.withLock { exported in
            for snapshot in snapshots { copy(snapshot, into: &exported) }
            advance(Self.droppedObservations, labels: [], to: droppedObservations, &exported)
            advance(Self.droppedObservationBatches, labels: [], to: droppedObservationBatches, &exported)
            // Emit under the lock, so two scrapes never interleave their deltas and output.
            registry.emit(into: &buffer)
        }
        appendBatchSizes(snapshots, to: &buffer)
        return buffer
    }

    private func copy(_ snapshot: AdapterCounterSnapshot, into exported: inout Exported) {
        let adapter = [("adapter", snapshot.adapter.rawValue)]
        advance(Self.framesSeen, labels: adapter, to: snapshot.framesSeen, &exported)
        advance(Self.requestsSeen, labels: adapter, to: snapshot.requestsSeen, &exported)
        advance(Self.repliesSent, labels: adapter, to: snapshot.repliesSent, &exported)
        advance(Self.replyErrors, labels: adapter, to: snapshot.injectErrors, &exported)
        advance(Self.fastPathReplies, labels: adapter, to: snapshot.fastPathReplies, &exported)
        advance(Self.fastPathDropped, labels: adapter, to: snapshot.fastPathDropped, &exported)
        advance(Self.observations, labels: adapter, to: snapshot.observations, &exported)
        advance(Self.captureErrors, labels: adapter, to: snapshot.captureErrors, &exported)
        advance(Self.standbyAnnouncements, labels: adapter, to: snapshot.standbyAnnouncements, &exported)
        for reason in IgnoreReason.allCases {
            advance(
                Self.ignored, labels: adapter + [("reason", reason.label)], to: snapshot.ignored[reason] ?? 0, &exported)
        }
        registry.makeGauge(descriptor: Self.largestBatch, labels: adapter).set(Int64(clamping: snapshot.largestBatch))
    }

    private static func counter(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "proxyarpd", metricName: name, unitName: "total", helpText: help)
    }

    static var framesSeen: MetricNameDescriptor { counter("arp_frames_seen", "Frames the capture delivered (after the BPF filter)") }
    static var requestsSeen: MetricNameDescriptor { counter("arp_requests_seen", "ARP requests seen (requests, probes, gratuitous requests)") }
    static var repliesSent: MetricNameDescriptor { counter("arp_replies_sent", "ARP replies sent for VIPs") }
    static var fastPathReplies: MetricNameDescriptor { counter("xdp_replies_sent", "ARP replies the XDP fast path sent (part of arp_replies_sent)") }
    static var fastPathDropped: MetricNameDescriptor { counter("xdp_requests_dropped", "Requests for a VIP another adapter answers, dropped in XDP") }
    static var replyErrors: MetricNameDescriptor { counter("arp_reply_errors", "ARP replies pcap_inject refused") }
    static var observations: MetricNameDescriptor { counter("observations", "Observations handed to the control plane") }
    static var captureErrors: MetricNameDescriptor { counter("capture_errors", "pcap_dispatch failures") }
    static var standbyAnnouncements: MetricNameDescriptor { counter(
        "standby_announcements", "VIPs announced out of this adapter by the link monitor's thread as a lost agent's standby") }
    static var ignored: MetricNameDescriptor { counter("frames_ignored", "Frames neither answered nor reported, by reason") }
    static var droppedObservations: MetricNameDescriptor { counter(
        "observations_dropped", "Observations dropped because the control plane fell behind") }
    static var droppedObservationBatches: MetricNameDescriptor { counter(
        "observation_batches_dropped", "Observation batches dropped because the control plane fell behind") }
    static var largestBatch: MetricNameDescriptor { MetricNameDescriptor(
        namespace: "proxyarpd", metricName: "io_largest_batch", unitName: "frames",
        helpText: "The most frames one capture batch held") }

    /// Adds to the counter `descriptor{labels}` what `value` grew by since the last scrape.
    private func advance(
        _ descriptor: MetricNameDescriptor, labels: [(String, String)], to value: UInt64, _ exported: inout Exported
    ) {
        let key = ([descriptor.name] + labels.map { "\($0.0)=\($0.1)" }).joined(separator: ",")
        let counter = registry.makeCounter(descriptor: descriptor, labels: labels)
        let last = exported.last[key] ?? 0
        if value > last { counter.increment(by: Int64(clamping: value - last)) }
        exported.last[key] = value
    }

    /// `proxyarpd_io_batch_frames`: a histogram of frames per capture batch, per adapter.
    /// Written here from the I/O layer's bucketed atomics (the registry's histograms only
    /// take one observation per call, which would mean a call per batch on the hot path).
    private func appendBatchSizes(_ snapshots: [AdapterCounterSnapshot], to buffer: inout [UInt8]) {
        let name = "proxyarpd_io_batch_frames"
        var text = "# HELP \(name) Frames per non-empty capture batch.\n# TYPE \(name) histogram\n"
        for snapshot in snapshots where !snapshot.batchSizeCounts.isEmpty {
            let adapter = "adapter=\"\(snapshot.adapter.rawValue)\""
            var cumulative: UInt64 = 0
            for (bound, count) in zip(AdapterCounters.batchSizeBounds, snapshot.batchSizeCounts) {
                cumulative += count
                text += "\(name)_bucket{\(adapter),le=\"\(bound)\"} \(cumulative)\n"
            }
            text += "\(name)_bucket{\(adapter),le=\"+Inf\"} \(cumulative)\n"
            text += "\(name)_sum{\(adapter)} \(snapshot.framesSeen)\n"
            text += "\(name)_count{\(adapter)} \(cumulative)\n"
        }
        buffer += Array(text.utf8)
    }
}
