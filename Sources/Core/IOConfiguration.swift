/// How frames are answered: the `io:` section.
public struct IOConfiguration: Sendable, Equatable {
    /// Which path answers plain ARP requests for active VIPs.
    public var fastPath: FastPathMode
    /// What each adapter's pcap capture takes from the kernel.
    public var captureFilter: CaptureFilterMode
    /// Whether a `tc` ingress rule keeps plain requests for active VIPs away from the
    /// kernel's ARP code once the capture saw them (`io.arp_guard`); nil: not set, which
    /// means on when the daemon keeps root (it needs CAP_NET_ADMIN and CAP_BPF at run
    /// time) and off when `daemon.user` drops root.
    public var arpGuard: Bool?

    /// Creates the settings; the default answers in XDP where it attaches, narrows each
    /// capture to what its adapter needs and guards the kernel's ARP code when it can.
    public init(fastPath: FastPathMode = .auto, captureFilter: CaptureFilterMode = .narrow, arpGuard: Bool? = nil) {
        self.fastPath = fastPath
        self.captureFilter = captureFilter
        self.arpGuard = arpGuard
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

/// `io.capture_filter`: the classic BPF filter of each adapter's capture.
public enum CaptureFilterMode: String, Sendable, Equatable, CaseIterable {
    /// Only what the adapter needs: plain requests for the VIPs it serves, and every frame
    /// the control plane observes (gratuitous ARP, replies, probes); rebuilt when the
    /// answer table changes, `arp` when the program would be too long.
    case narrow
    /// Every ARP frame (`arp or (vlan and arp)`), as before the narrowing existed.
    case arp
}
