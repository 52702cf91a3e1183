import Foundation
import ProxyARPCore
import ProxyARPTestSupport
import Testing

/// The sd_notify protocol and the metrics endpoint against the real daemon: the test
/// plays systemd (a datagram socket named by NOTIFY_SOCKET) and Prometheus (curl inside
/// the daemon's namespace, where the endpoint listens on loopback).
@Suite("systemd notify and /metrics: the real daemon", .serialized, .enabled(if: endToEndEnabled))
struct NotifyTests {
    @Test("READY=1 once every VIP is active, WATCHDOG=1 pings, STOPPING=1 on SIGTERM; /metrics counters moved")
    func readyWatchdogStoppingAndMetrics() async throws {
        let listener = try NotifyListener()
        defer { listener.close() }
        let vips = ["198.18.0.100", "198.18.0.101", "198.18.1.100"]
        try await DaemonLab.with(
            "ntfy", vips: vips, extraConfig: "metrics:\n  listen: 127.0.0.1:9469\n",
            environment: ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "1000000"]
        ) { daemon in
            let ready = try await listener.waitFor("READY=1", timeout: .seconds(30))
            #expect(ready.contains("STATUS=3 of 3 VIPs active"))
            // Ready means answering: each VIP answers the first arping.
            let answers = try await daemon.waitForAnswers(daemon.vips, attempts: 1)
            #expect(answers.count == daemon.vips.count)
            // WatchdogSec=1s: pings every 0.5 s.
            let before = listener.messages.filter { $0 == "WATCHDOG=1" }.count
            try await Task.sleep(for: .seconds(2))
            let pings = listener.messages.filter { $0 == "WATCHDOG=1" }.count - before
            #expect(pings >= 2, "expected WATCHDOG=1 about every 0.5 s, got \(pings) in 2 s")

            // A few more requests, then scrape.
            _ = try await daemon.lab.arping(IPv4Address("198.18.0.100")!, count: 3, timeoutSeconds: 3)
            let text = try await daemon.lab.lab.exec(
                daemon.lab.host, "curl", ["-sS", "--max-time", "5", "http://127.0.0.1:9469/metrics"]
            ).output
            try? text.write(toFile: NSTemporaryDirectory() + "proxyarpd-metrics-sample.txt", atomically: true, encoding: .utf8)
            let metrics = PrometheusText(text)
            #expect(metrics.sum("proxyarpd_arp_replies_sent_total") >= 6)
            #expect(metrics.sum("proxyarpd_arp_requests_seen_total") >= 6)
            #expect(metrics.sum("proxyarpd_gratuitous_arps_sent_total") >= 3)
            #expect(metrics.value("proxyarpd_vips{state=\"active\",family=\"ipv4\"}") == 3)
            #expect(metrics.value("proxyarpd_vip_activation_duration_seconds_count") == 3)
            #expect(metrics.sum("proxyarpd_io_batch_frames_count") >= 6)
            #expect(metrics.sum("proxyarpd_frames_ignored_total") > 0)
            #expect(text.contains("proxyarpd_vip_activation_duration_seconds_bucket{le=\"0.0005\"}"))

            daemon.daemon.send(SIGTERM)
            _ = try await listener.waitFor("STOPPING=1", timeout: .seconds(10))
        }
    }
}

/// The `$NOTIFY_SOCKET` end: a datagram socket in the file system (abstract sockets
/// belong to a network namespace; the daemon runs in another one).
final class NotifyListener: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private let lock = NSLock()
    private var received: [String] = []

    init() throws {
        path = NSTemporaryDirectory() + "proxyarpd-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw LabFailure("socket: \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw LabFailure("bind \(path): \(errno)") }
    }

    func close() {
        _ = Glibc.close(fd)
        unlink(path)
    }

    /// Every line received so far, in order.
    var messages: [String] {
        drain()
        return lock.withLock { received.flatMap { $0.split(separator: "\n").map(String.init) } }
    }

    /// Waits (bounded) for a datagram containing `line`; returns the whole datagram.
    func waitFor(_ line: String, timeout: Duration) async throws -> String {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            drain()
            if let datagram = lock.withLock({ received.first { $0.split(separator: "\n").contains { $0 == line } } }) {
                return datagram
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw LabFailure("no \(line) within \(timeout); received \(lock.withLock { received })")
    }

    private func drain() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return }
            let text = String(decoding: buffer[0..<count], as: UTF8.self)
            lock.withLock { received.append(text) }
        }
    }
}

/// Prometheus text, sample lines only.
struct PrometheusText {
    let samples: [(series: String, value: Double)]

    init(_ text: String) {
        samples = text.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...])
            else { return nil }
            return (String(line[..<space]), value)
        }
    }

    /// The value of exactly `series` (name and labels as printed).
    func value(_ series: String) -> Double? { samples.first { $0.series == series }?.value }

    /// The sum over every series of metric `name` (any labels).
    func sum(_ name: String) -> Double {
        samples.filter { $0.series == name || $0.series.hasPrefix(name + "{") }.reduce(0) { $0 + $1.value }
    }
}
