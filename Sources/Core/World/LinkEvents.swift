/// One link as rtnetlink reports it.
public struct LinkState: Sendable, Equatable, Codable {
    /// Kernel name.
    public var name: AdapterName
    /// Kernel interface index.
    public var index: Int32
    /// Hardware address.
    public var mac: MACAddress
    /// `IFF_UP`.
    public var adminUp: Bool
    /// `IFF_RUNNING` / operstate up: the link has carrier.
    public var carrier: Bool
    /// IPv4 addresses with prefixes, primary first.
    public var interfaces: [IPv4Interface]
    /// Global IPv6 addresses with their prefixes (no link-local, no tentative), in kernel order.
    public var ipv6Prefixes: [IPv6Prefix]

    /// Creates a link state.
    public init(
        name: AdapterName, index: Int32, mac: MACAddress, adminUp: Bool, carrier: Bool, interfaces: [IPv4Interface],
        ipv6Prefixes: [IPv6Prefix] = []
    ) {
        self.name = name
        self.index = index
        self.mac = mac
        self.adminUp = adminUp
        self.carrier = carrier
        self.interfaces = interfaces
        self.ipv6Prefixes = ipv6Prefixes
    }
}

extension IPv4Interface: CodableAsText {}

/// A change of a link.
public enum LinkEvent: Sendable, Equatable {
    /// The link exists with this state (also sent for every link at start).
    case changed(LinkState)
    /// The link disappeared.
    case removed(AdapterName)
}

/// The source of link state: rtnetlink for real, a script in tests.
public protocol LinkEvents: Sendable {
    /// Link events, starting with the current state of every link.
    func events() -> AsyncStream<LinkEvent>
}
