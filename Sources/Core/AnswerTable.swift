/// The addresses one adapter answers ARP requests for, and the MAC it answers with.
public struct ProxyList: Sendable, Equatable {
    /// The agent adapter's own hardware address: the sender of every reply.
    public let agentMAC: MACAddress
    /// The VIPs this adapter is proxy agent for.
    public let vips: AddressSet

    /// Creates a proxy list.
    public init(agentMAC: MACAddress, vips: AddressSet) {
        self.agentMAC = agentMAC
        self.vips = vips
    }

    /// True when `address` is on this list. O(1).
    ///
    /// Not `@inlinable`: its serialized body would make Core compile a second, identical
    /// specialization of `Set<IPv4Address>.contains`, which LLVM merges with the answer
    /// path's and calls through a thunk (8 instructions a frame in ``AnswerRules``).
    public func contains(_ address: IPv4Address) -> Bool { vips.contains(address) }
}

/// An immutable snapshot of everything the answer path needs: per adapter, the VIPs it
/// answers for; and for every adapter, which addresses are ours at all (so that our own
/// gratuitous ARPs and foreign claims are noticed while a VIP is still being announced).
///
/// The selector builds a new table only when a VIP enters or leaves a proxy list; the
/// I/O path reads it once per batch through ``AnswerTablePublisher``.
public struct AnswerTable: Sendable, Equatable {
    /// Increases by one with every published table; 0 is the empty table.
    public let generation: UInt64
    /// Proxy list by agent adapter. Adapters that answer for nothing may be absent.
    public let proxyLists: [AdapterName: ProxyList]
    /// Every configured VIP, whatever its state: announcements for these are observed.
    public let watchedVIPs: AddressSet
    /// The hardware addresses of all managed adapters: an announcement from one of these
    /// is our own, from any other MAC it is a conflict.
    public let ownMACs: Set<MACAddress>
    /// The VIPs whose announcements await confirmation: only our own announcements for
    /// these are reported to the control plane. Nil reports every own announcement.
    public let awaitingConfirmation: AddressSet?
    /// The IPv6 VIPs: answered with Neighbor Discovery.
    public let ipv6: IPv6AnswerTable

    /// Creates a table.
    public init(
        generation: UInt64,
        proxyLists: [AdapterName: ProxyList],
        watchedVIPs: AddressSet,
        ownMACs: Set<MACAddress>,
        awaitingConfirmation: AddressSet? = nil,
        ipv6: IPv6AnswerTable = .empty
    ) {
        self.generation = generation
        self.proxyLists = proxyLists
        self.watchedVIPs = watchedVIPs
        self.ownMACs = ownMACs
        self.awaitingConfirmation = awaitingConfirmation
        self.ipv6 = ipv6
    }

    /// The table before anything was published: answers nothing, watches nothing.
    public static let empty = AnswerTable(generation: 0, proxyLists: [:], watchedVIPs: AddressSet(), ownMACs: [])

    /// True when `adapter`'s proxy list (of `vip`'s family) holds `vip`.
    public func serves(_ vip: IPAddress, on adapter: AdapterName) -> Bool {
        switch vip {
        case .v4(let address): proxyLists[adapter]?.contains(address) ?? false
        case .v6(let address): ipv6.proxyLists[adapter]?.contains(address) ?? false
        }
    }

    /// What `adapter` (whose MAC is `mac`) must know to decide a frame.
    public func view(for adapter: AdapterName, mac: MACAddress) -> AnswerView {
        AnswerView(
            adapterMAC: mac,
            proxyList: proxyLists[adapter]?.vips ?? .empty,
            watchedVIPs: watchedVIPs,
            ownMACs: ownMACs,
            awaitingConfirmation: awaitingConfirmation,
            ipv6: ipv6.view(for: adapter)
        )
    }
}

/// One adapter's slice of an ``AnswerTable``: the input of ``AnswerRules``.
public struct AnswerView: Sendable, Equatable {
    /// The adapter's own MAC: the sender of its replies, and a valid unicast destination.
    public let adapterMAC: MACAddress
    /// The VIPs this adapter answers for.
    public let proxyList: AddressSet
    /// Every configured VIP.
    public let watchedVIPs: AddressSet
    /// The MACs of all managed adapters.
    public let ownMACs: Set<MACAddress>
    /// VIPs whose own announcements are reported; nil: all.
    public let awaitingConfirmation: AddressSet?
    /// The adapter's IPv6 VIPs (``NDPAnswerRules``).
    public let ipv6: IPv6AnswerSets

    /// Creates a view.
    public init(
        adapterMAC: MACAddress,
        proxyList: AddressSet,
        watchedVIPs: AddressSet,
        ownMACs: Set<MACAddress>,
        awaitingConfirmation: AddressSet? = nil,
        ipv6: IPv6AnswerSets = .empty
    ) {
        self.adapterMAC = adapterMAC
        self.proxyList = proxyList
        self.watchedVIPs = watchedVIPs
        self.ownMACs = ownMACs
        self.awaitingConfirmation = awaitingConfirmation
        self.ipv6 = ipv6
    }
}
