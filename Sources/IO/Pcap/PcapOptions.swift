/// How a live capture handle is configured (see ``PcapHandle/openLive(device:options:)``).
public struct PcapOptions: Hashable, Sendable {
    /// Bytes kept of each frame. An ARP frame is 42 bytes, 50 with two VLAN tags, 60
    /// padded; 128 leaves room without copying whole frames.
    public var snapshotLength: Int32
    /// The kernel ring size in bytes. The ring is allocated whole when the handle opens and
    /// mapped into the process, so it is resident memory from the start, per adapter.
    /// 2 MiB (libpcap's own default) holds about 10,000 frames of the immediate-mode
    /// (TPACKET_V2) ring: 150 ms at the 64k requests/s the bench lab reaches, 25 ms at
    /// 400k/s, far beyond a batch of 256 and the jobs run between batches. 4 MiB cost 12.7
    /// MB of resident memory with three adapters.
    public var bufferSize: Int32
    /// The BPF filter. The default takes untagged ARP and ARP behind one 802.1Q/802.1ad tag
    /// (`vlan` also matches tags the NIC stripped into auxdata). Double-tagged (QinQ) ARP
    /// is parsed by the codec but not let through by this filter: libpcap's `vlan` keyword
    /// shifts offsets for the rest of the expression, so `vlan and vlan and arp` cannot be
    /// or-ed in safely; give a custom filter where QinQ reaches the host.
    public var filter: String
    /// Which frames to capture. `PCAP_D_IN` (the default) skips frames the host sends, so
    /// the kernel's own outgoing ARP is not re-read; our own injected frames are never
    /// seen by the injecting socket anyway. Use `PCAP_D_INOUT` only for a handle that must
    /// see the host's outbound copies.
    public var inboundOnly: Bool
    /// Promiscuous mode. Off: ARP requests are broadcast and unicast NUD probes are sent
    /// to our own MAC, so nothing else is needed.
    public var promiscuous: Bool
    /// The capture thread's pause after a batch of two frames or more, before it polls
    /// again (see ``ThreadExecutor``): under load the next batch is bigger and the thread
    /// wakes less often per frame; an idle adapter still answers at once. Zero: never pause.
    public var coalescing: Duration
    /// With ``defaultFilter`` or ``filterWithNeighborDiscovery``: narrow each adapter's
    /// kernel filter to what it needs (``CaptureFilterProgram``: plain requests only for the
    /// VIPs it serves or from a watched VIP, solicitations only for the IPv6 VIPs it serves
    /// or from one of ours), rebuilt ``filterQuietPeriod`` after the answer table last
    /// changed (widened at once on every change, to the filter with Neighbor Discovery
    /// while the table has IPv6 VIPs, which happens with this off too). A custom filter is
    /// kept as given.
    public var narrowsFilter = true
    /// How long the answer table must stay unchanged before a capture filter is narrowed again.
    public var filterQuietPeriod: Duration = .milliseconds(500)

    /// The default: 128-byte snapshots, 2 MiB buffer, filter `arp or (vlan and arp)`,
    /// inbound only, not promiscuous.
    public init(
        snapshotLength: Int32 = 128,
        bufferSize: Int32 = 2 << 20,
        filter: String = Self.defaultFilter,
        inboundOnly: Bool = true,
        promiscuous: Bool = false,
        coalescing: Duration = Self.defaultCoalescing
    ) {
        self.snapshotLength = snapshotLength
        self.bufferSize = bufferSize
        self.filter = filter
        self.inboundOnly = inboundOnly
        self.promiscuous = promiscuous
        self.coalescing = coalescing
    }

    /// The default pause, 100 µs. Measured with `proxyarpd bench` (README, Performance):
    /// the daemon's CPU per reply fell from 15-19 µs to 6-9 µs at 50-100k requests/s;
    /// 250 and 500 µs saved little more. A reply waits at most this long, under load only.
    public static let defaultCoalescing: Duration = .microseconds(100)

    /// `arp or (vlan and arp)`: untagged ARP, and ARP behind one VLAN tag.
    public static let defaultFilter = "arp or (vlan and arp)"
}
