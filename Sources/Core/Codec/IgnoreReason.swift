/// Why the answer path neither replied to a frame nor reported it.
///
/// Flat apart from ``malformed(_:)``, whose reasons are themselves a flat enum, so that
/// ``allCases`` lists every counter and ``counterIndex`` gives each a dense slot.
public enum IgnoreReason: Hashable, Sendable, CaseIterable {
    /// Neither ARP nor IPv6 (another Ethernet type).
    case notARP
    /// An ARP frame (or tagged frame) that cannot be used.
    case malformed(MalformedFrameReason)
    /// An ARP reply that claims none of our VIPs.
    case notARequest
    /// A request for an address this adapter does not answer for.
    case targetNotOurs
    /// A request whose sender hardware address is multicast, broadcast or all-zero.
    case senderNotUnicast
    /// A request sent to a unicast Ethernet destination other than this adapter's MAC.
    case notForUs
    /// A frame sent by one of our own adapters that is not a gratuitous announcement.
    case ownFrame
    /// A gratuitous ARP (either form) for an address that is not one of our VIPs.
    case announcementNotOurs
    /// Our own gratuitous ARP for a VIP that is not awaiting confirmation: nothing to report.
    case announcementNotAwaited
    /// Tagged with a VLAN ID other than 0: not this adapter's (untagged) segment.
    case otherVLAN
    /// An IPv6 frame that is not a Neighbor Solicitation or Advertisement.
    case notNeighborDiscovery

    /// Every reason, malformed ones expanded: one per counter.
    public static let allCases: [IgnoreReason] =
        [.notARP] + MalformedFrameReason.allCases.map { .malformed($0) }
        + [.notARequest, .targetNotOurs, .senderNotUnicast, .notForUs, .ownFrame, .announcementNotOurs,
            .announcementNotAwaited, .otherVLAN, .notNeighborDiscovery]

    /// A dense index into ``allCases``, for an array of counters.
    public var counterIndex: Int {
        let malformedCount = MalformedFrameReason.allCases.count
        switch self {
        case .notARP: return 0
        case .malformed(let reason):
            // allCases of a raw-value enum without associated values is in declaration order.
            var index = 0
            for candidate in MalformedFrameReason.allCases {
                if candidate == reason { break }
                index += 1
            }
            return 1 + index
        case .notARequest: return 1 + malformedCount
        case .targetNotOurs: return 2 + malformedCount
        case .senderNotUnicast: return 3 + malformedCount
        case .notForUs: return 4 + malformedCount
        case .ownFrame: return 5 + malformedCount
        case .announcementNotOurs: return 6 + malformedCount
        case .announcementNotAwaited: return 7 + malformedCount
        case .otherVLAN: return 8 + malformedCount
        case .notNeighborDiscovery: return 9 + malformedCount
        }
    }

    /// A short, stable label for metrics and logs, e.g. `malformed_truncated`.
    public var label: String {
        switch self {
        case .notARP: "not_arp"
        case .malformed(let reason): "malformed_\(reason.rawValue)"
        case .notARequest: "not_a_request"
        case .targetNotOurs: "target_not_ours"
        case .senderNotUnicast: "sender_not_unicast"
        case .notForUs: "not_for_us"
        case .ownFrame: "own_frame"
        case .announcementNotOurs: "announcement_not_ours"
        case .announcementNotAwaited: "announcement_not_awaited"
        case .otherVLAN: "other_vlan"
        case .notNeighborDiscovery: "not_ndp"
        }
    }
}
