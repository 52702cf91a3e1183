extension PcapOptions {
    /// ``defaultFilter`` plus untagged Neighbor Solicitations and Advertisements (ICMPv6
    /// types 135 and 136 right after the IPv6 header), and IPv6 whose first next header is a
    /// hop-by-hop, routing or destination options header (the codec skips those to reach a
    /// solicitation behind them; the filter lets them through rather than follow them). For
    /// adapters while IPv6 VIPs are configured (``CaptureFilterProgram`` narrows it per adapter).
    ///
    /// Not let through (the codec handles them, this filter does not): NDP behind a tag
    /// left in the frame (the kernel normally moves a received frame's outer tag out of it
    /// before the capture sees it, so a priority-tagged solicitation looks untagged here).
    ///
    /// The NDP clauses come before `vlan`: libpcap's `vlan` keyword shifts the offsets of
    /// everything after it, so after `(vlan and arp)` the clause would read 4 bytes too far
    /// and never match an untagged frame (measured: nothing captured in that order).
    public static let filterWithNeighborDiscovery =
        "arp or (icmp6 and (ip6[40] == 135 or ip6[40] == 136)) or (ip6 and (ip6[6] == 0 or ip6[6] == 43 or ip6[6] == 60)) or (vlan and arp)"
}
