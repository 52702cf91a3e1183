import ProxyARPCore

/// A managed adapter as the selector sees it.
public struct AgentCandidate: Sendable, Hashable, Codable {
    /// Kernel name.
    public var name: AdapterName
    /// Hardware address.
    public var mac: MACAddress
    /// Its IPv4 addresses with prefixes, primary first.
    public var interfaces: [IPv4Interface]
    /// Its global IPv6 addresses with their prefixes: the same-subnet rule for IPv6 VIPs.
    public var ipv6Prefixes: [IPv6Prefix]
    /// Whether its health machine says it may serve.
    public var eligible: Bool
    /// Whether the link is up with carrier, even if the adapter is not eligible (hold-down,
    /// unconfirmed announcements): such an adapter still hears its segment.
    public var linkUp: Bool
    /// When not eligible but a last resort (held down by flap damping alone, its link up
    /// again; see `AdapterHealthStateMachine.lastResortUntil`): when its hold-down ends.
    /// Such a candidate serves only VIPs no eligible candidate can take. Nil otherwise.
    public var lastResortUntil: Instant?

    /// Creates a candidate; `linkUp` defaults to `eligible`.
    public init(
        name: AdapterName, mac: MACAddress, interfaces: [IPv4Interface], ipv6Prefixes: [IPv6Prefix] = [], eligible: Bool,
        linkUp: Bool? = nil, lastResortUntil: Instant? = nil
    ) {
        self.name = name
        self.mac = mac
        self.interfaces = interfaces
        self.ipv6Prefixes = ipv6Prefixes
        self.eligible = eligible
        self.linkUp = linkUp ?? eligible
        self.lastResortUntil = eligible ? nil : lastResortUntil
    }

    /// True when it may get VIPs: eligible, or a last resort.
    public var canServe: Bool { eligible || lastResortUntil != nil }

    /// The interface whose subnet holds `vip`, if any.
    public func interface(containing vip: IPv4Address) -> IPv4Interface? {
        interfaces.first { $0.subnet.contains(vip) }
    }

    /// True when one of the adapter's own subnets (IPv4) or prefixes (IPv6) holds `vip`.
    public func isOnSubnet(of vip: IPAddress) -> Bool {
        switch vip {
        case .v4(let address): interface(containing: address) != nil
        case .v6(let address): ipv6Prefixes.contains { $0.contains(address) }
        }
    }

    /// The local IPv4 address to record for `vip`: the same-subnet address, else the
    /// primary one. Nil for an IPv6 VIP (status shows its agent and MAC).
    public func localAddress(for vip: IPAddress) -> IPv4Address? {
        guard case .v4(let address) = vip else { return nil }
        return (interface(containing: address) ?? interfaces.first)?.address
    }
}

extension AgentCandidate {
    private enum CodingKeys: String, CodingKey {
        case name, mac, interfaces, ipv6Prefixes, eligible, linkUp, lastResortUntil
    }

    /// Decodes a candidate; a trace written before IPv6 VIPs has no `ipv6Prefixes` (none),
    /// one written before the last resort no `lastResortUntil` (not a last resort).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try container.decode(AdapterName.self, forKey: .name),
            mac: try container.decode(MACAddress.self, forKey: .mac),
            interfaces: try container.decode([IPv4Interface].self, forKey: .interfaces),
            ipv6Prefixes: try container.decodeIfPresent([IPv6Prefix].self, forKey: .ipv6Prefixes) ?? [],
            eligible: try container.decode(Bool.self, forKey: .eligible),
            linkUp: try container.decode(Bool.self, forKey: .linkUp),
            lastResortUntil: try container.decodeIfPresent(Instant.self, forKey: .lastResortUntil))
    }
}

/// How well a candidate fits a VIP. Smaller is better; compared field by field in the
/// order of ARCHITECTURE.md §1 step 1.
public struct AgentRank: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// 0 when the candidate's own subnet holds the VIP, else 1.
    public var subnet: Int
    /// Position in the VIP's preferred list; `Int.max` when not listed.
    public var preference: Int
    /// 0 when the candidate is the VIP's previous agent (the one an earlier instance left
    /// it bound to, found at start), else 1. After subnet and preference, which the
    /// configuration states, before block, load and name, which are only tie-breaks: a
    /// restart keeps a VIP where it was (no move, no new MAC for the clients) unless the
    /// configuration now asks for another adapter.
    public var previous: Int
    /// 0 when the candidate already serves another VIP of the VIP's block (see
    /// ``AgentSelection/blockPrefixLength``), else 1. Always 1 with blocks of one address.
    public var block: Int
    /// VIPs the candidate already serves.
    public var load: Int
    /// Deterministic tie-break.
    public var name: AdapterName
    /// For a last resort (a candidate held down by flap damping, chosen because no eligible
    /// candidate was left), when its hold-down ends: among last resorts, after subnet and
    /// preference, the one that becomes eligible first ranks first. Nil for an eligible
    /// candidate. Eligible candidates and last resorts are never ranked against each other.
    public var lastResortUntil: Instant?

    /// Creates a rank.
    public init(
        subnet: Int, preference: Int, previous: Int = 1, block: Int = 1, load: Int, name: AdapterName,
        lastResortUntil: Instant? = nil
    ) {
        self.subnet = subnet
        self.preference = preference
        self.previous = previous
        self.block = block
        self.load = load
        self.name = name
        self.lastResortUntil = lastResortUntil
    }

    /// True when `self` is better than `other` on the criteria that justify a preemptive
    /// move (subnet and preference; block, load and name never do).
    public func outranksForPreemption(_ other: AgentRank) -> Bool {
        (subnet, preference) < (other.subnet, other.preference)
    }

    public static func < (lhs: AgentRank, rhs: AgentRank) -> Bool {
        // Swift compares tuples of at most six: the name breaks the remaining ties.
        let left = (lhs.subnet, lhs.preference, lhs.lastResortUntil?.nanoseconds ?? 0, lhs.previous, lhs.block, lhs.load)
        let right = (rhs.subnet, rhs.preference, rhs.lastResortUntil?.nanoseconds ?? 0, rhs.previous, rhs.block, rhs.load)
        return left != right ? left < right : lhs.name < rhs.name
    }

    /// `subnet=0 pref=1 load=3 eth1`, with `previous` for the previous agent, `block`
    /// when the block decided, and `lastResort` for a held-down candidate used as last resort.
    public var description: String {
        let pref = preference == .max ? "-" : String(preference)
        let resort = lastResortUntil == nil ? "" : " lastResort"
        return "subnet=\(subnet) pref=\(pref)\(resort)\(previous == 0 ? " previous" : "")\(block == 0 ? " block" : "") load=\(load) \(name)"
    }
}
