/// The IPv6 side of an ``AnswerTable``: per adapter, the IPv6 VIPs it answers Neighbor
/// Solicitations for, and the IPv6 VIPs watched on every adapter.
public struct IPv6AnswerTable: Sendable, Equatable {
    /// IPv6 proxy list by agent adapter.
    public let proxyLists: [AdapterName: IPv6AddressSet]
    /// Every configured IPv6 VIP: advertisements for these are observed.
    public let watchedVIPs: IPv6AddressSet
    /// The IPv6 VIPs whose announcements await confirmation; nil reports every own one.
    public let awaitingConfirmation: IPv6AddressSet?

    /// Creates the IPv6 side of a table.
    public init(
        proxyLists: [AdapterName: IPv6AddressSet], watchedVIPs: IPv6AddressSet,
        awaitingConfirmation: IPv6AddressSet? = nil
    ) {
        self.proxyLists = proxyLists
        self.watchedVIPs = watchedVIPs
        self.awaitingConfirmation = awaitingConfirmation
    }

    /// No IPv6 VIPs.
    public static let empty = IPv6AnswerTable(proxyLists: [:], watchedVIPs: [])

    /// What `adapter` must know to decide an NDP frame.
    public func view(for adapter: AdapterName) -> IPv6AnswerSets {
        IPv6AnswerSets(
            proxyList: proxyLists[adapter] ?? .empty, watchedVIPs: watchedVIPs, awaitingConfirmation: awaitingConfirmation)
    }
}

/// One adapter's IPv6 slice of an ``AnswerView``.
public struct IPv6AnswerSets: Sendable, Equatable {
    /// The IPv6 VIPs this adapter answers for.
    public let proxyList: IPv6AddressSet
    /// Every configured IPv6 VIP.
    public let watchedVIPs: IPv6AddressSet
    /// IPv6 VIPs whose own announcements are reported; nil: all.
    public let awaitingConfirmation: IPv6AddressSet?

    /// Creates the sets.
    public init(proxyList: IPv6AddressSet, watchedVIPs: IPv6AddressSet, awaitingConfirmation: IPv6AddressSet? = nil) {
        self.proxyList = proxyList
        self.watchedVIPs = watchedVIPs
        self.awaitingConfirmation = awaitingConfirmation
    }

    /// No IPv6 VIPs.
    public static let empty = IPv6AnswerSets(proxyList: [], watchedVIPs: [])

    /// True when `address` is watched or on the proxy list.
    @inline(__always)
    func isOurs(_ address: IPv6Address) -> Bool {
        watchedVIPs.contains(address) || proxyList.contains(address)
    }
}
