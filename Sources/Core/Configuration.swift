/// The daemon's whole configuration as plain values: what the YAML file says after
/// validation, with VIP ranges and blocks already expanded to single addresses.
public struct DaemonConfiguration: Sendable, Equatable {
    /// The physical adapters proxyarpd may use as proxy agents, in file order.
    public var adapters: [AdapterConfiguration]
    /// Every VIP, IPv4 and IPv6, one entry per address: the IPv4 entries in file order,
    /// then the IPv6 ones in file order.
    public var vips: [VIPConfiguration]
    /// Announcement, confirmation and hold-down timing.
    public var timers: TimerConfiguration
    /// The control socket (status, trace, reload).
    public var control: ControlConfiguration
    /// The Prometheus endpoint.
    public var metrics: MetricsConfiguration
    /// Process-level settings: privilege drop, state directory, shutdown behaviour.
    public var daemon: DaemonSettings
    /// How VIPs are grouped on agents (and so bound in the kernel).
    public var selection: SelectionConfiguration
    /// What to do when another host claims a VIP.
    public var conflicts: ConflictConfiguration
    /// How frames are answered (the XDP fast path).
    public var io: IOConfiguration
    /// Cluster mode (VIP ownership through etcd leases); nil: this host alone owns every VIP.
    public var cluster: ClusterConfiguration?

    /// Creates a configuration; every section but adapters and VIPs has defaults.
    public init(
        adapters: [AdapterConfiguration],
        vips: [VIPConfiguration],
        timers: TimerConfiguration = .init(),
        control: ControlConfiguration = .init(),
        metrics: MetricsConfiguration = .init(),
        daemon: DaemonSettings = .init(),
        selection: SelectionConfiguration = .init(),
        conflicts: ConflictConfiguration = .init(),
        io: IOConfiguration = .init(),
        cluster: ClusterConfiguration? = nil
    ) {
        self.adapters = adapters
        self.vips = vips
        self.timers = timers
        self.control = control
        self.metrics = metrics
        self.daemon = daemon
        self.selection = selection
        self.conflicts = conflicts
        self.io = io
        self.cluster = cluster
    }

    /// The IPv6 VIPs among ``vips``.
    public var ipv6VIPs: [VIPConfiguration] { vips.filter { $0.address.family == .ipv6 } }
}

/// How VIPs are grouped on agents.
public struct SelectionConfiguration: Sendable, Equatable {
    /// VIPs are grouped in aligned blocks of this prefix length, 24...32: after the subnet
    /// and preference rules, a VIP goes to the agent already serving its block, and the
    /// kernel gets one policy rule and one local route per run of a block's VIPs on one
    /// agent instead of one rule and one address per VIP. Default 32: every VIP alone.
    public var blockPrefixLength: Int

    /// The accepted block sizes.
    public static let blockPrefixLengths = 24...32

    /// Creates the selection settings.
    public init(blockPrefixLength: Int = 32) {
        self.blockPrefixLength = blockPrefixLength
    }
}

/// One managed adapter.
public struct AdapterConfiguration: Sendable, Equatable {
    /// The kernel interface name.
    public var name: AdapterName
    /// The IPv4 address the operator expects on the adapter, if stated. `check` refuses a
    /// VIP equal to it; at run time the kernel's own addresses are used and a mismatch is logged.
    public var expectedAddress: IPv4Interface?

    /// Creates an adapter entry.
    public init(name: AdapterName, expectedAddress: IPv4Interface? = nil) {
        self.name = name
        self.expectedAddress = expectedAddress
    }
}

/// One VIP, IPv4 (answered with ARP) or IPv6 (answered with Neighbor Discovery).
public struct VIPConfiguration: Sendable, Equatable {
    /// The virtual address.
    public var address: IPAddress
    /// Adapters to prefer, best first, after the same-subnet rule. Empty: no preference.
    public var preferred: [AdapterName]
    /// Move back to a better agent when one appears (after ``TimerConfiguration/preemptDelay``).
    public var preempt: Bool
    /// Cluster mode: hosts that should own the VIP, best first, before rendezvous hashing.
    /// Empty: hashing alone. Ignored without a `cluster:` section.
    public var preferredHosts: [String]

    /// Creates a VIP entry.
    public init(address: IPAddress, preferred: [AdapterName] = [], preempt: Bool = false, preferredHosts: [String] = []) {
        self.address = address
        self.preferred = preferred
        self.preempt = preempt
        self.preferredHosts = preferredHosts
    }

    /// Creates an IPv4 VIP entry.
    public init(address: IPv4Address, preferred: [AdapterName] = [], preempt: Bool = false, preferredHosts: [String] = []) {
        self.init(address: .v4(address), preferred: preferred, preempt: preempt, preferredHosts: preferredHosts)
    }

    /// Creates an IPv6 VIP entry.
    public init(address: IPv6Address, preferred: [AdapterName] = [], preempt: Bool = false, preferredHosts: [String] = []) {
        self.init(address: .v6(address), preferred: preferred, preempt: preempt, preferredHosts: preferredHosts)
    }
}

/// Timing of announcements, confirmation and flap protection.
public struct TimerConfiguration: Sendable, Equatable {
    /// Gratuitous ARP rounds per activation (each round sends both forms). Default 3.
    public var announceCount: Int
    /// Gap between rounds; must exceed Linux's 1 s neighbour `locktime`. Default 1.2 s.
    public var announceInterval: Duration
    /// How long to wait for the first round to be seen on the wire. Default 250 ms.
    public var confirmTimeout: Duration
    /// Retransmissions of an unconfirmed first round before the agent counts as failed. Default 2.
    public var confirmRetries: Int
    /// Period of the refresh announcement while active (switch FDB ageing); nil is off.
    public var refreshInterval: Duration?
    /// How long an adapter must stay healthy after a failure before it is eligible again. Default 2 s.
    public var holdDown: Duration
    /// How long a better agent must stay eligible before a `preempt` VIP moves to it. Default 5 s.
    public var preemptDelay: Duration

    /// Creates timers with the documented defaults.
    public init(
        announceCount: Int = 3,
        announceInterval: Duration = .milliseconds(1200),
        confirmTimeout: Duration = .milliseconds(250),
        confirmRetries: Int = 2,
        refreshInterval: Duration? = nil,
        holdDown: Duration = .seconds(2),
        preemptDelay: Duration = .seconds(5)
    ) {
        self.announceCount = announceCount
        self.announceInterval = announceInterval
        self.confirmTimeout = confirmTimeout
        self.confirmRetries = confirmRetries
        self.refreshInterval = refreshInterval
        self.holdDown = holdDown
        self.preemptDelay = preemptDelay
    }
}

/// The control socket.
public struct ControlConfiguration: Sendable, Equatable {
    /// Filesystem path of the Unix socket. Default `/run/proxyarpd/control.sock`.
    public var socketPath: String
    /// Group allowed to connect (mode 0660); nil keeps root only.
    public var group: String?

    /// Creates the control settings.
    public init(socketPath: String = "/run/proxyarpd/control.sock", group: String? = nil) {
        self.socketPath = socketPath
        self.group = group
    }
}

/// The Prometheus endpoint.
public struct MetricsConfiguration: Sendable, Equatable {
    /// Loopback host to listen on. Default `127.0.0.1`.
    public var host: String
    /// TCP port; 0 disables metrics. Default 9469.
    public var port: Int

    /// Creates the metrics settings.
    public init(host: String = "127.0.0.1", port: Int = 9469) {
        self.host = host
        self.port = port
    }
}

/// Process-level settings.
public struct DaemonSettings: Sendable, Equatable {
    /// Unprivileged user to switch to after setup; nil stays root.
    public var user: String?
    /// Directory for trace dumps. Default `/var/lib/proxyarpd`.
    public var stateDirectory: String
    /// Remove VIPs from `lo` on shutdown. Default true.
    public var removeVIPsOnExit: Bool
    /// Capacity of the state-trace ring buffer, in records. Default 16,384: a full ring of
    /// 65,536 held about 14 MB (168-byte records plus their texts), as much as 20,000
    /// idle VIPs; raise it where a longer history is worth the memory.
    public var traceCapacity: Int

    /// Creates the process settings.
    public init(
        user: String? = nil,
        stateDirectory: String = "/var/lib/proxyarpd",
        removeVIPsOnExit: Bool = true,
        traceCapacity: Int = 16_384
    ) {
        self.user = user
        self.stateDirectory = stateDirectory
        self.removeVIPsOnExit = removeVIPsOnExit
        self.traceCapacity = traceCapacity
    }
}
