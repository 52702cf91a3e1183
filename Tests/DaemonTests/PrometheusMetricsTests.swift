import CoreMetrics
import Prometheus
import ProxyARPCore
@testable import ProxyARPDaemon
import ProxyARPIO
import Testing

@Suite("Prometheus metrics: the names and values the daemon exports")
struct PrometheusMetricsTests {
    static let snapshot = AdapterCounterSnapshot(
        adapter: AdapterName("h0"), framesSeen: 20, requestsSeen: 12, repliesSent: 4, injectErrors: 1, observations: 3,
        batches: 5, largestBatch: 7, captureErrors: 0, ignored: [.targetNotOurs: 2],
        batchSizeCounts: [1, 2, 0, 2, 0, 0, 0, 0, 0], standbyAnnouncements: 3
    )

    /// `# TYPE name kind` lines of an exposition.
    static func types(_ text: String) -> [String: String] {
        var types: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("# TYPE ") {
            let words = line.split(separator: " ")
            types[String(words[2])] = String(words[3])
        }
        return types
    }

    static func scrape(_ metrics: PrometheusMetrics, _ snapshot: AdapterCounterSnapshot) -> String {
        String(decoding: metrics.scrape(counters: [snapshot], droppedObservations: 4, droppedObservationBatches: 1), as: UTF8.self)
    }

    @Test("Every answer-path metric is registered under its Prometheus name and kind")
    func names() {
        let text = Self.scrape(PrometheusMetrics(registry: PrometheusCollectorRegistry()), Self.snapshot)
        #expect(Self.types(text) == [
            "proxyarpd_arp_frames_seen_total": "counter",
            "proxyarpd_arp_requests_seen_total": "counter",
            "proxyarpd_arp_replies_sent_total": "counter",
            "proxyarpd_arp_reply_errors_total": "counter",
            "proxyarpd_xdp_replies_sent_total": "counter",
            "proxyarpd_xdp_requests_dropped_total": "counter",
            "proxyarpd_observations_total": "counter",
            "proxyarpd_capture_errors_total": "counter",
            "proxyarpd_standby_announcements_total": "counter",
            "proxyarpd_frames_ignored_total": "counter",
            "proxyarpd_observations_dropped_total": "counter",
            "proxyarpd_observation_batches_dropped_total": "counter",
            "proxyarpd_io_largest_batch_frames": "gauge",
            "proxyarpd_io_batch_frames": "histogram",
        ])
    }

    @Test("Values are the I/O layer's totals, per adapter, ignored frames per reason")
    func values() {
        let metrics = PrometheusMetrics(registry: PrometheusCollectorRegistry())
        _ = Self.scrape(metrics, Self.snapshot)
        var later = Self.snapshot
        later.requestsSeen = 15
        let lines = Set(Self.scrape(metrics, later).split(separator: "\n").map(String.init))
        for expected in [
            #"proxyarpd_arp_requests_seen_total{adapter="h0"} 15"#,  // a total, not 12 + 15
            #"proxyarpd_arp_replies_sent_total{adapter="h0"} 4"#,
            #"proxyarpd_arp_reply_errors_total{adapter="h0"} 1"#,
            #"proxyarpd_frames_ignored_total{adapter="h0",reason="target_not_ours"} 2"#,
            #"proxyarpd_frames_ignored_total{adapter="h0",reason="not_arp"} 0"#,
            #"proxyarpd_observations_dropped_total 4"#,
            #"proxyarpd_standby_announcements_total{adapter="h0"} 3"#,
            #"proxyarpd_io_largest_batch_frames{adapter="h0"} 7.0"#,  // a gauge: a float
            #"proxyarpd_io_batch_frames_bucket{adapter="h0",le="1"} 1"#,
            #"proxyarpd_io_batch_frames_bucket{adapter="h0",le="2"} 3"#,
            #"proxyarpd_io_batch_frames_bucket{adapter="h0",le="+Inf"} 5"#,
            #"proxyarpd_io_batch_frames_sum{adapter="h0"} 20"#,
            #"proxyarpd_io_batch_frames_count{adapter="h0"} 5"#,
        ] {
            #expect(lines.contains(expected), "missing: \(expected)")
        }
    }

    @Test("Activation and failover timers are histograms in seconds, 0.5 ms to 10 s")
    func durationHistograms() {
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetrics.factory(over: registry)
        for name in ["proxyarpd_vip_activation_duration_seconds", "proxyarpd_vip_failover_duration_seconds"] {
            factory.makeTimer(label: name, dimensions: []).recordNanoseconds(3_000_000)
        }
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        let text = String(decoding: buffer, as: UTF8.self)
        #expect(Self.types(text) == [
            "proxyarpd_vip_activation_duration_seconds": "histogram",
            "proxyarpd_vip_failover_duration_seconds": "histogram",
        ])
        let lines = Set(text.split(separator: "\n").map(String.init))
        for name in ["proxyarpd_vip_activation_duration_seconds", "proxyarpd_vip_failover_duration_seconds"] {
            #expect(lines.contains(#"\#(name)_bucket{le="0.0005"} 0"#), "\(text)")
            #expect(lines.contains(#"\#(name)_bucket{le="0.002"} 0"#))
            #expect(lines.contains(#"\#(name)_bucket{le="0.005"} 1"#))
            #expect(lines.contains(#"\#(name)_bucket{le="10.0"} 1"#))
            #expect(lines.contains(#"\#(name)_count 1"#))
        }
    }
}
