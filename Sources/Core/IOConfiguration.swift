/// How frames are answered: the `io:` section.
public struct IOConfiguration: Sendable, Equatable {
    /// Which path answers plain ARP requests for active VIPs.
    public var fastPath: FastPathMode

    /// Creates the settings; the default answers in XDP where it attaches.
    public init(fastPath: FastPathMode = .auto) {
        self.fastPath = fastPath
    }
}

/// `io.fast_path`: where plain ARP requests for active VIPs are answered.
public enum FastPathMode: String, Sendable, Equatable, CaseIterable {
    /// By the batched libpcap path only.
    case pcap
    /// By the XDP program in the driver; the daemon refuses to start if it cannot attach.
    case xdp
    /// XDP on the adapters where it attaches, pcap elsewhere (logged, with the reason). veth
    /// adapters are left to pcap: an XDP_TX reply on a veth is delivered only when the peer
    /// runs an XDP program, which the daemon cannot see from its side.
    case auto
}
