import ProxyARPCore

/// The adapters a fuzzed frame is decided on, with the addresses and MACs of the
/// fixtures (Tests/Fixtures/README.md), so the seed frames reach every rule.
enum FrameViews {
    static let hostA = MACAddress(0x02, 0x00, 0x00, 0x00, 0x0A, 0x01)
    static let hostB = MACAddress(0x02, 0x00, 0x00, 0x00, 0x0B, 0x01)
    static let sibling = MACAddress(0x02, 0xA0, 0x00, 0x00, 0x00, 0x11)
    static let vips = [
        IPv4Address(198, 18, 0, 2), IPv4Address(198, 18, 0, 100), IPv4Address(198, 18, 0, 1),
        IPv4Address(198, 18, 0, 77), IPv4Address(192, 0, 2, 1),
    ]

    /// IPv6 VIPs of Tests/Fixtures/linux-ndp.pcap and ndp-crafted.pcap.
    static let ipv6VIPs = IPv6AddressSet([
        IPv6Address(high: 0x2001_0db8_0000_0000, low: 2), IPv6Address(high: 0x2001_0db8_0000_0000, low: 1),
    ])

    /// Host B answering for every VIP; own announcements always reported.
    static let answeringAll = AnswerView(
        adapterMAC: hostB, proxyList: AddressSet(vips), watchedVIPs: AddressSet(vips),
        ownMACs: [hostB, sibling], ipv6: IPv6AnswerSets(proxyList: ipv6VIPs, watchedVIPs: ipv6VIPs))

    /// Host A answering for two VIPs, watching all, awaiting confirmation of one; host B
    /// (its sibling on the segment) is also ours.
    static let answeringSome = AnswerView(
        adapterMAC: hostA, proxyList: AddressSet(vips.prefix(2)), watchedVIPs: AddressSet(vips),
        ownMACs: [hostA, hostB, sibling], awaitingConfirmation: AddressSet([vips[1]]),
        ipv6: IPv6AnswerSets(
            proxyList: IPv6AddressSet([IPv6Address(high: 0x2001_0db8_0000_0000, low: 2)]), watchedVIPs: ipv6VIPs,
            awaitingConfirmation: IPv6AddressSet()))

    /// An adapter that answers for nothing (a sibling): only conflicts and own announcements.
    static let siblingOnly = AnswerView(
        adapterMAC: sibling, proxyList: AddressSet(), watchedVIPs: AddressSet(vips),
        ownMACs: [hostA, sibling], awaitingConfirmation: AddressSet())

    static let all = [answeringAll, answeringSome, siblingOnly]
}
