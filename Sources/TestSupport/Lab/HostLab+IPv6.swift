import ProxyARPCore

/// IPv6 on the standard lab: global addresses from 2001:db8::/32 on the host adapters and
/// the client (added `nodad`, so nothing waits for Duplicate Address Detection), and the
/// client's IPv6 tools (`ndisc6`, `ping -6`, the kernel's neighbour table).
///
///     h0 2001:db8::10/64    h1 2001:db8::11/64    h2 2001:db8:1::10/64
///     c0 2001:db8::1/64 and 2001:db8:1::1/64
extension HostLab {
    /// The host adapters' IPv6 addresses, by adapter name (the VIPs' /64s: h0 and h1 on
    /// 2001:db8::/64, h2 on 2001:db8:1::/64, as their IPv4 subnets).
    public static let defaultIPv6Addresses = [
        "h0": "2001:db8::10/64", "h1": "2001:db8::11/64", "h2": "2001:db8:1::10/64",
    ]
    /// The client's IPv6 addresses.
    public static let clientIPv6Addresses = ["2001:db8::1/64", "2001:db8:1::1/64"]

    /// Turns IPv6 on in the lab's namespaces and adds the addresses above (`nodad`).
    public func enableIPv6() async throws {
        for namespace in [host, client, fabric] {
            _ = try await lab.exec(namespace, "sysctl", ["-qw", "net.ipv6.conf.all.disable_ipv6=0"], check: false)
            _ = try await lab.exec(namespace, "sysctl", ["-qw", "net.ipv6.conf.default.disable_ipv6=0"], check: false)
        }
        for adapter in adapters {
            _ = try await lab.exec(host, "sysctl", ["-qw", "net.ipv6.conf.\(adapter.name).disable_ipv6=0"], check: false)
            if let address = Self.defaultIPv6Addresses[adapter.name] {
                try await lab.ip(host, "-6", "addr", "add", address, "dev", adapter.name, "nodad")
            }
        }
        _ = try await lab.exec(client, "sysctl", ["-qw", "net.ipv6.conf.\(clientDevice).disable_ipv6=0"], check: false)
        for address in Self.clientIPv6Addresses {
            try await lab.ip(client, "-6", "addr", "add", address, "dev", clientDevice, "nodad")
        }
    }

    /// `ndisc6` from the client: the target link-layer addresses of every advertisement
    /// that answered one solicitation for `address` (`-m`: all of them, not just the first).
    public func ndisc6(_ address: IPv6Address, waitMilliseconds: Int = 1000) async throws -> [MACAddress] {
        let result = try await lab.exec(
            client, "ndisc6", ["-n", "-m", "-r", "1", "-w", "\(waitMilliseconds)", address.description, clientDevice],
            check: false)
        return Self.advertisedMACs(in: result.output)
    }

    /// The MACs of `Target link-layer address: 02:A0:00:00:00:10` lines of ndisc6 output.
    public static func advertisedMACs(in output: String) -> [MACAddress] {
        output.split(separator: "\n").compactMap { line in
            guard line.contains("Target link-layer address"), let colon = line.firstIndex(of: ":") else { return nil }
            return MACAddress(line[line.index(after: colon)...].trimmingCharacters())
        }
    }

    /// The client's IPv6 neighbour entry for `address`: (MAC, state), or nil.
    public func clientNeighbour(_ address: IPv6Address) async throws -> (mac: MACAddress, state: String)? {
        let result = try await lab.ip(client, "-6", "neigh", "show", address.description, "dev", clientDevice)
        let words = result.output.split(separator: " ").map(String.init)
        guard let index = words.firstIndex(of: "lladdr"), index + 1 < words.count,
            let mac = MACAddress(words[index + 1])
        else { return nil }
        return (mac, words.last.map { String($0.filter { !$0.isWhitespace }) } ?? "")
    }

    /// `ping -6` from the client: (sent, received).
    public func ping(_ address: IPv6Address, count: Int, interval: String = "0.2", deadlineSeconds: Int = 10) async throws -> (sent: Int, received: Int) {
        let result = try await lab.exec(
            client, "ping", ["-6", "-n", "-q", "-c", "\(count)", "-i", interval, "-w", "\(deadlineSeconds)", address.description],
            check: false
        )
        return Self.pingCounts(in: result.output)
    }
}

extension Substring {
    /// The text without leading and trailing whitespace.
    fileprivate func trimmingCharacters() -> String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
