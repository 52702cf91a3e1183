/// The Neighbor Discovery answer rules, as one pure function from a parsed frame and an
/// adapter's ``AnswerView`` to an ``NDPDecision``: what Linux does for its own addresses
/// (measured in Tests/Fixtures/linux-ndp.pcap), done for the adapter's IPv6 proxy list.
///
/// Order of the rules (validity, hop limit 255, checksum, code 0, options, multicast
/// target or source, were checked by ``NDPParser``):
/// 1. Tagged with a VLAN ID other than 0 → ignore `.otherVLAN` (as for ARP).
/// 2. An advertisement for one of our IPv6 VIPs (watched, or on this proxy list): from
///    another MAC → `.conflict` (claimed by its target link-layer address, else its
///    Ethernet source); from one of our MACs, unsolicited, while the VIP awaits
///    confirmation (or the view says all do) → `.ownAnnouncement`; else ignore
///    `.announcementNotAwaited`. For any other target → ignore `.announcementNotOurs`.
/// 3. A solicitation: from one of our MACs → `.ownFrame`; from a sender MAC that is not
///    unicast → `.senderNotUnicast`; whose IPv6 source is one of our VIPs, from another MAC
///    → `.conflict` (that host uses our VIP); whose target is not on the proxy list →
///    `.targetNotOurs`; not sent to the target's solicited-node group nor to the target at
///    this adapter's MAC → `.notForUs`. Otherwise it is answered:
///    - a DAD probe (source `::`) is defended with an advertisement to all-nodes (S=0,
///      O=1, target link-layer option) and reported as `.probe`;
///    - a multicast solicitation gets a unicast advertisement to the solicitor (its
///      source link-layer option, else the Ethernet source): S=1, O=1, target link-layer
///      option;
///    - a unicast solicitation (a reachability probe) gets what Linux sends: S=1, O=0,
///      no option.
///    The advertisement is untagged (a priority tag counts as untagged).
public enum NDPAnswerRules {
    /// Decides what to do with an already parsed NDP frame. Pure, never traps, never allocates.
    public static func decide(_ frame: NDPFrame, view: AnswerView) -> NDPDecision {
        for index in 0..<frame.ethernet.tags.count where frame.ethernet.tags[index].vlanID != 0 {
            return .ignore(.otherVLAN)
        }
        let sets = view.ipv6
        let sender = frame.ethernet.source
        let senderIsOurs = view.ownMACs.contains(sender)
        switch frame.message {
        case .advertisement(let flags):
            let vip = frame.target
            guard sets.isOurs(vip) else { return .ignore(.announcementNotOurs) }
            guard senderIsOurs else { return .observe(.conflict(vip: vip, claimedBy: frame.linkLayerAddress ?? sender)) }
            if flags.solicited { return .ignore(.ownFrame) }
            if let awaited = sets.awaitingConfirmation, !awaited.contains(vip) {
                return .ignore(.announcementNotAwaited)
            }
            return .observe(.ownAnnouncement(vip: vip, mac: sender))

        case .solicitation:
            if senderIsOurs { return .ignore(.ownFrame) }
            guard sender.isUnicast else { return .ignore(.senderNotUnicast) }
            if !frame.source.isUnspecified, sets.watchedVIPs.contains(frame.source) {
                return .observe(.conflict(vip: frame.source, claimedBy: frame.linkLayerAddress ?? sender))
            }
            let vip = frame.target
            guard sets.proxyList.contains(vip) else { return .ignore(.targetNotOurs) }
            let multicast = frame.destination.isMulticast
            if multicast {
                guard frame.destination == vip.solicitedNodeGroup else { return .ignore(.notForUs) }
            } else {
                guard frame.destination == vip, frame.ethernet.destination == view.adapterMAC else {
                    return .ignore(.notForUs)
                }
            }
            if frame.isDuplicateAddressProbe {
                let plan = NDPAdvertisementPlan(
                    adapterMAC: view.adapterMAC, vip: vip, destinationMAC: IPv6Address.allNodes.multicastMAC,
                    destination: .allNodes, flags: NDPAdvertisementFlags(solicited: false, override: true),
                    includesTargetLinkLayerAddress: true)
                return .advertise(plan, observation: .probe(vip: vip, from: sender))
            }
            let plan = NDPAdvertisementPlan(
                adapterMAC: view.adapterMAC, vip: vip, destinationMAC: frame.linkLayerAddress ?? sender,
                destination: frame.source, flags: NDPAdvertisementFlags(solicited: true, override: multicast),
                includesTargetLinkLayerAddress: multicast)
            return .advertise(plan, observation: nil)
        }
    }

    /// Parses and decides a whole Ethernet frame held in an array (tests and tools):
    /// not NDP → `.notNeighborDiscovery`, malformed → `.malformed(reason)`.
    public static func decide(_ frame: [UInt8], view: AnswerView) -> NDPDecision {
        switch NDPParser.parse(frame) {
        case .ndp(let parsed): decide(parsed, view: view)
        case .notNDP: .ignore(.notNeighborDiscovery)
        case .malformed(let reason): .ignore(.malformed(reason))
        }
    }
}
