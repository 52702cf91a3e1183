import ProxyARPCore

/// IPv6 on the cluster lab's client LAN: host k's adapters `ea`/`eb` get 2001:db8::(10k+1)
/// and (10k+2) /64 (hexadecimal digits, `nodad`), the client 2001:db8::1/64; ``ndisc6(_:waitMilliseconds:)``
/// solicits a VIP from the client.
extension ClusterLab {
    /// The IPv6 address of host `index`'s adapter `ea` or `eb`, with its prefix length.
    public static func ipv6Address(host index: Int, adapter: String) -> String {
        "2001:db8::\(String(10 * (index + 1) + (adapter == "ea" ? 1 : 2), radix: 16))/64"
    }

    /// Turns IPv6 on in the client, switch and host namespaces and adds the addresses above.
    public func enableIPv6() async throws {
        let lab = etcd.lab
        for namespace in [client, fabric] + hosts {
            _ = try await lab.exec(namespace, "sysctl", ["-qw", "net.ipv6.conf.all.disable_ipv6=0"], check: false)
            _ = try await lab.exec(namespace, "sysctl", ["-qw", "net.ipv6.conf.default.disable_ipv6=0"], check: false)
        }
        for (index, host) in hosts.enumerated() {
            for adapter in ["ea", "eb"] {
                _ = try await lab.exec(host, "sysctl", ["-qw", "net.ipv6.conf.\(adapter).disable_ipv6=0"], check: false)
                try await lab.ip(host, "-6", "addr", "add", Self.ipv6Address(host: index, adapter: adapter), "dev", adapter, "nodad")
            }
        }
        _ = try await lab.exec(client, "sysctl", ["-qw", "net.ipv6.conf.\(clientDevice).disable_ipv6=0"], check: false)
        try await lab.ip(client, "-6", "addr", "add", "2001:db8::1/64", "dev", clientDevice, "nodad")
    }

    /// `ndisc6` from the client: the target link-layer addresses of every advertisement that
    /// answered one solicitation for `address` within `waitMilliseconds`.
    public func ndisc6(_ address: IPv6Address, waitMilliseconds: Int = 1000) async throws -> [MACAddress] {
        let result = try await etcd.lab.exec(
            client, "ndisc6", ["-n", "-m", "-r", "1", "-w", "\(waitMilliseconds)", address.description, clientDevice], check: false)
        return HostLab.advertisedMACs(in: result.output)
    }
}
