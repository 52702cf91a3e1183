import ProxyARPCore

/// The IPv6 addresses of a ``HostLab``: two /64s inside 2001:db8::/32 like the lab's two
/// IPv4 subnets (h0 and h1 on the first, h2 on the second, the client on both). A plain
/// value, known before the lab exists (a test names its VIPs from it).
public struct IPv6LabPlan: Sendable, Hashable {
    /// The third group of every address: `2001:db8:SITE:0::/64` and `2001:db8:SITE:1::/64`.
    public let site: UInt16

    /// Creates the plan of site `site`.
    public init(site: UInt16) {
        self.site = site
    }

    /// The first /64 (h0, h1): `2001:db8:SITE::/64`, as its network address.
    public var primaryPrefix: IPv6Address { IPv6Address(high: 0x2001_0DB8_0000_0000 | UInt64(site) << 16, low: 0) }
    /// The second /64 (h2): `2001:db8:SITE:1::/64`.
    public var secondaryPrefix: IPv6Address { IPv6Address(high: primaryPrefix.high | 1, low: 0) }

    /// The address of host adapter `name`: `::10` (h0), `::11` (h1) on the first /64, `::10`
    /// (h2, and any further adapter) on the second.
    public func address(of name: String) -> IPv6Address {
        switch name {
        case "h0": IPv6Address(high: primaryPrefix.high, low: 0x10)
        case "h1": IPv6Address(high: primaryPrefix.high, low: 0x11)
        default: IPv6Address(high: secondaryPrefix.high, low: 0x10)
        }
    }

    /// The client's address on the first /64 (`::1`).
    public var client: IPv6Address { IPv6Address(high: primaryPrefix.high, low: 1) }
    /// The client's address on the second /64 (`::1`).
    public var secondaryClient: IPv6Address { IPv6Address(high: secondaryPrefix.high, low: 1) }

    /// An address of the first /64 that no adapter holds (`::100` + `index`): a VIP.
    public func vip(_ index: Int) -> IPv6Address { IPv6Address(high: primaryPrefix.high, low: 0x100 + UInt64(index)) }
}

/// IPv6 on a ``HostLab`` (addresses from an ``IPv6LabPlan``) and the client-side tools:
/// `ndisc6`, `ping -6`, the client kernel's neighbour table.
public struct HostLabIPv6: Sendable {
    /// The lab it addresses.
    public let lab: HostLab
    /// Its addresses.
    public let plan: IPv6LabPlan

    /// The tools for `lab`, already addressed by ``configure(_:plan:)`` with `plan`.
    public init(lab: HostLab, plan: IPv6LabPlan) {
        self.lab = lab
        self.plan = plan
    }

    /// Gives every host adapter and the client their IPv6 addresses (no DAD: they are unique
    /// by construction), IPv6 enabled in the lab's namespaces.
    public static func configure(_ lab: HostLab, plan: IPv6LabPlan) async throws -> HostLabIPv6 {
        for namespace in [lab.host, lab.client, lab.fabric] {
            try await lab.lab.exec(namespace, "sysctl", ["-qw", "net.ipv6.conf.all.disable_ipv6=0", "net.ipv6.conf.default.disable_ipv6=0"])
        }
        for adapter in lab.adapters {
            try await lab.lab.exec(lab.host, "sysctl", ["-qw", "net.ipv6.conf.\(adapter.name).disable_ipv6=0"])
            try await lab.lab.ip(lab.host, "-6", "addr", "add", "\(plan.address(of: adapter.name))/64", "dev", adapter.name, "nodad")
        }
        for address in [plan.client, plan.secondaryClient] {
            try await lab.lab.ip(lab.client, "-6", "addr", "add", "\(address)/64", "dev", lab.clientDevice, "nodad")
        }
        return HostLabIPv6(lab: lab, plan: plan)
    }

    /// `ndisc6` from the client: the MACs of every advertisement for `target` within
    /// `waitMilliseconds` of one solicitation (`-m`: all answers, not the first only).
    public func solicit(_ target: IPv6Address, waitMilliseconds: Int = 1000) async throws -> [MACAddress] {
        let result = try await lab.lab.exec(
            lab.client, "ndisc6", ["-n", "-m", "-r", "1", "-w", "\(waitMilliseconds)", target.description, lab.clientDevice], check: false)
        return Self.advertisedMACs(in: result.output)
    }

    /// Solicits `target` once a second until it is answered (at most `attempts` times);
    /// returns the MACs of the answering round, or `[]`.
    public func waitForAdvertisement(_ target: IPv6Address, attempts: Int = 20) async throws -> [MACAddress] {
        for _ in 0..<attempts {
            let macs = try await solicit(target)
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

    /// The client kernel's neighbour entry for `address`: (MAC, state), or nil.
    public func clientNeighbour(_ address: IPv6Address) async throws -> (mac: MACAddress, state: String)? {
        let result = try await lab.lab.ip(lab.client, "-6", "neigh", "show", address.description, "dev", lab.clientDevice)
        let words = result.output.split(separator: " ").map(String.init)
        guard let index = words.firstIndex(of: "lladdr"), index + 1 < words.count, let mac = MACAddress(words[index + 1]) else { return nil }
        return (mac, words.last ?? "")
    }

    /// `ping -6` from the client: (sent, received).
    public func ping(_ address: IPv6Address, count: Int, interval: String = "0.2", deadlineSeconds: Int = 10) async throws -> (sent: Int, received: Int) {
        let result = try await lab.lab.exec(
            lab.client, "ping", ["-6", "-n", "-q", "-c", "\(count)", "-i", interval, "-w", "\(deadlineSeconds)", address.description],
            check: false)
        return HostLab.pingCounts(in: result.output)
    }
}
