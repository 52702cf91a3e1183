import ProxyARPCore

extension DaemonConfiguration {
    /// One line describing the configuration, as `proxyarpd check` prints it:
    /// `3 adapters (eth0, eth1, eth2), 39 VIPs, announce 3 x 1200ms, confirm 250ms x 2 retries, refresh off, hold-down 2s, preempt delay 5s, metrics 127.0.0.1:9469`.
    public var summary: String {
        let names = adapters.map(\.name.rawValue).joined(separator: ", ")
        let refresh = timers.refreshInterval.map(DurationText.format) ?? "off"
        let host = metrics.host.contains(":") ? "[\(metrics.host)]" : metrics.host
        let metricsText = metrics.port == 0 ? "metrics off" : "metrics \(host):\(metrics.port)"
        return [
            "\(adapters.count) adapter\(adapters.count == 1 ? "" : "s") (\(names))",
            "\(vips.count) VIP\(vips.count == 1 ? "" : "s")"
                + (ipv6VIPs.isEmpty ? "" : " (\(ipv6VIPs.count) IPv6)"),
            "announce \(timers.announceCount) x \(DurationText.format(timers.announceInterval))",
            "confirm \(DurationText.format(timers.confirmTimeout)) x \(timers.confirmRetries) retries",
            "refresh \(refresh)",
            "hold-down \(DurationText.format(timers.holdDown))",
            "preempt delay \(DurationText.format(timers.preemptDelay))",
            metricsText,
        ].joined(separator: ", ")
    }
}
