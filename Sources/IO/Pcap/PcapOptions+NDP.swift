extension PcapOptions {
    /// ``defaultFilter`` plus untagged Neighbor Solicitations and Advertisements (ICMPv6
    /// types 135 and 136 right after the IPv6 header). For adapters that serve IPv6 VIPs.
    ///
    /// Not let through (the codec handles them, the filter does not, yet): NDP behind an
    /// extension header (`ip6[40]` is then the extension header) and NDP behind a priority
    /// tag. `ip6 protochain 58` would walk the extension headers, at the cost of a loop in
    /// the BPF program run for every IPv6 frame.
    ///
    /// The NDP clause comes before `vlan`: libpcap's `vlan` keyword shifts the offsets of
    /// everything after it, so after `(vlan and arp)` the clause would read 4 bytes too far
    /// and never match an untagged frame (measured: nothing captured in that order).
    public static let filterWithNeighborDiscovery =
        "arp or (icmp6 and (ip6[40] == 135 or ip6[40] == 136)) or (vlan and arp)"
}
