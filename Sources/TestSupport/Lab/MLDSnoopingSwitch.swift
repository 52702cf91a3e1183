import ProxyARPCore

/// The switch of a ``HostLab`` made a switch that snoops MLD and is the segment's MLD
/// querier (`mcast_snooping 1`, `mcast_querier 1`, short query intervals): once its
/// querier is trusted, a solicitation to a solicited-node group reaches only the ports
/// whose hosts reported that group (RFC 4541), as on a managed switch, instead of every
/// port. Without a querier the Linux bridge floods every multicast frame.
public struct MLDSnoopingSwitch: Sendable {
    /// The lab whose bridge (`br0` in the switch namespace) snoops.
    public let lab: HostLab

    /// One entry of the bridge's multicast database (`bridge mdb show`).
    public struct Membership: Sendable, Hashable {
        /// The bridge port (`s-h0`), or `br0` for the bridge itself.
        public var port: String
        /// The group.
        public var group: IPv6Address

        /// Creates an entry.
        public init(port: String, group: IPv6Address) {
            self.port = port
            self.group = group
        }
    }

    /// The switch of `lab`, as it is (``enable(on:query:response:)`` turns the querier on).
    public init(lab: HostLab) {
        self.lab = lab
    }

    /// The device the MLD reports of hidden ports are redirected to (a veth whose peer is
    /// down, so they are dropped there).
    static let sink = "mldsink"

    /// Turns snooping and the querier on: a link-local source for the bridge's queries
    /// (`fe80::5`, no DAD), then the intervals (centiseconds: `query` between general
    /// queries, `response` the maximum response delay, which is also how long a new
    /// querier floods before it trusts its table), then the querier.
    public static func enable(on lab: HostLab, query: Duration = .seconds(5), response: Duration = .seconds(1)) async throws -> MLDSnoopingSwitch {
        let fabric = lab.fabric
        try await lab.lab.exec(fabric, "sysctl", ["-qw", "net.ipv6.conf.br0.disable_ipv6=0"])
        try await lab.lab.ip(fabric, "-6", "addr", "add", "fe80::5/64", "dev", "br0", "nodad")
        try await lab.lab.ip(
            fabric, "link", "set", "br0", "type", "bridge", "mcast_snooping", "1",
            "mcast_query_interval", "\(centiseconds(query))", "mcast_query_response_interval", "\(centiseconds(response))",
            "mcast_startup_query_interval", "\(centiseconds(response))")
        try await lab.lab.ip(fabric, "link", "set", "br0", "type", "bridge", "mcast_querier", "1")
        return MLDSnoopingSwitch(lab: lab)
    }

    private static func centiseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 100 + duration.components.attoseconds / 10_000_000_000_000_000)
    }

    /// Makes the switch deaf to the MLD reports of host adapter `name`: a `tc` ingress rule
    /// on its switch port redirects every IPv6 packet with a hop-by-hop header (MLD reports
    /// carry the router alert option there; nothing else in the lab does) to a dead device.
    /// So the kernel on that adapter joins groups for its addresses, but the switch never
    /// learns them: the lab's "port whose group is not joined". What the switch had already
    /// learnt from that port (snooping is on by default, querier or not) is deleted.
    public func hideReports(of name: String) async throws {
        let port = lab.adapter(name)!.switchPort
        let fabric = lab.fabric
        if try await lab.lab.ip(fabric, "link", "show", "dev", Self.sink, check: false).exitCode != 0 {
            try await lab.lab.ip(fabric, "link", "add", Self.sink, "type", "veth", "peer", "name", Self.sink + "p")
            try await lab.lab.ip(fabric, "link", "set", Self.sink, "up")
        }
        try await lab.lab.exec(fabric, "tc", ["qdisc", "add", "dev", port, "clsact"])
        try await lab.lab.exec(fabric, "tc", [
            "filter", "add", "dev", port, "ingress", "protocol", "ipv6", "u32", "match", "u8", "0", "0xff", "at", "6",
            "action", "mirred", "egress", "redirect", "dev", Self.sink,
        ])
        for membership in try await memberships() where membership.port == port {
            try await lab.lab.exec(fabric, "bridge", ["mdb", "del", "dev", "br0", "port", port, "grp", membership.group.description])
        }
    }

    /// The bridge's multicast database: which port joined which IPv6 group.
    public func memberships() async throws -> [Membership] {
        let output = try await lab.lab.exec(lab.fabric, "bridge", ["mdb", "show", "dev", "br0"]).output
        return Self.memberships(in: output)
    }

    /// The ports that joined `group`.
    public func ports(joined group: IPv6Address) async throws -> Set<String> {
        Set(try await memberships().filter { $0.group == group }.map(\.port))
    }

    /// Parses `dev br0 port s-h0 grp ff02::1:ff00:10 temp` lines (IPv4 groups are skipped).
    public static func memberships(in output: String) -> [Membership] {
        output.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ").map(String.init)
            guard let port = words.firstIndex(of: "port"), let group = words.firstIndex(of: "grp"),
                port + 1 < words.count, group + 1 < words.count, let address = IPv6Address(words[group + 1])
            else { return nil }
            return Membership(port: words[port + 1], group: address)
        }
    }
}
