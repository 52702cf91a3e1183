import ProxyARPCore

/// IPv6 on a ``HostLab``: the addresses of an ``IPv6LabPlan`` on the host adapters and the
/// client (added `nodad`, so nothing waits for Duplicate Address Detection), and the
/// client's IPv6 tools (`ndisc6`, `ping -6`, the kernel's neighbour table).
extension HostLab {
    /// Turns IPv6 on in the lab's namespaces and gives every host adapter and the client
    /// their addresses from `plan` (no DAD: they are unique by construction).
    public func enableIPv6(plan: IPv6LabPlan = .standard) async throws {
        for namespace in [host, client, fabric] {
            try await lab.exec(namespace, "sysctl", ["-qw", "net.ipv6.conf.all.disable_ipv6=0", "net.ipv6.conf.default.disable_ipv6=0"])
        }
        for adapter in adapters {
            try await lab.exec(host, "sysctl", ["-qw", "net.ipv6.conf.\(adapter.name).disable_ipv6=0"])
            try await lab.ip(host, "-6", "addr", "add", "\(plan.address(of: adapter.name))/64", "dev", adapter.name, "nodad")
        }
        try await lab.exec(client, "sysctl", ["-qw", "net.ipv6.conf.\(clientDevice).disable_ipv6=0"])
        for address in [plan.client, plan.secondaryClient] {
            try await lab.ip(client, "-6", "addr", "add", "\(address)/64", "dev", clientDevice, "nodad")
        }
    }

    /// `ndisc6` from the client: the target link-layer addresses of every advertisement
    /// for `target` within `waitMilliseconds` of one solicitation (`-m`: all of them, not
    /// just the first).
    public func ndisc6(_ target: IPv6Address, waitMilliseconds: Int = 1000) async throws -> [MACAddress] {
        let result = try await lab.exec(
            client, "ndisc6", ["-n", "-m", "-r", "1", "-w", "\(waitMilliseconds)", target.description, clientDevice],
            check: false)
        return Self.advertisedMACs(in: result.output)
    }

    /// Solicits `target` with ``ndisc6(_:waitMilliseconds:)`` until it is answered (at most
    /// `attempts` solicitations); returns the MACs of the answering one, or `[]`.
    public func waitForAdvertisement(_ target: IPv6Address, attempts: Int = 30, waitMilliseconds: Int = 1000) async throws -> [MACAddress] {
        for _ in 0..<attempts {
            let macs = try await ndisc6(target, waitMilliseconds: waitMilliseconds)
            if !macs.isEmpty { return macs }
        }
        return []
    }

    /// The MACs in ndisc6's `Target link-layer address: 02:A0:00:00:00:10` lines.
    public static func advertisedMACs(in output: String) -> [MACAddress] {
        output.split(separator: "\n").compactMap { line in
            guard let range = line.range(of: "Target link-layer address: ") else { return nil }
            return MACAddress(String(line[range.upperBound...].prefix { !$0.isWhitespace }).lowercased())
        }
    }

    /// The client kernel's IPv6 neighbour entry for `address`: (MAC, state), or nil.
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
