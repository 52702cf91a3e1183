import ProxyARPCore

/// One ARP reply the soak's generator heard: when (`CLOCK_MONOTONIC`, the daemon's clock
/// too), for which VIP (the ARP sender IP), from which MAC (the ARP sender hardware
/// address), and whether the Ethernet source differed from that MAC.
public struct SoakReply: Sendable, Equatable {
    /// Receive time, nanoseconds of `CLOCK_MONOTONIC`.
    public var at: Int64
    /// The VIP the reply is about.
    public var vip: IPv4Address
    /// The MAC it gives for the VIP.
    public var mac: MACAddress
    /// True when the frame's Ethernet source is not `mac`.
    public var ethernetSourceDiffers: Bool

    /// Creates a reply.
    public init(at: Int64, vip: IPv4Address, mac: MACAddress, ethernetSourceDiffers: Bool = false) {
        self.at = at
        self.vip = vip
        self.mac = mac
        self.ethernetSourceDiffers = ethernetSourceDiffers
    }
}

/// What the daemon's status said about each VIP's agent at one moment.
public struct SoakAgentSnapshot: Sendable, Equatable {
    /// When the daemon took the status: its `monotonicNanoseconds` (`CLOCK_MONOTONIC`).
    public var at: Int64
    /// The agent MAC of every VIP that has an agent in this status.
    public var agents: [IPv4Address: MACAddress]

    /// Creates a snapshot.
    public init(at: Int64, agents: [IPv4Address: MACAddress]) {
        self.at = at
        self.agents = agents
    }
}

/// A reply the checker judged wrong, with why.
public struct SoakWrongReply: Sendable, Equatable, Codable {
    /// Receive time (`CLOCK_MONOTONIC` nanoseconds).
    public var at: Int64
    /// The VIP.
    public var vip: String
    /// The MAC the reply gave.
    public var mac: String
    /// Why it is wrong.
    public var reason: String
}

/// Judges every ARP reply of the soak against the daemon's own status.
///
/// **A wrong reply.** A reply for VIP `v` from MAC `m`, received at `t`, is *right* when
/// its Ethernet source is `m` and `m` is `v`'s agent MAC in at least one status snapshot
/// of the window `[prev(t − grace), next(t + grace)]`, where `prev(x)` is the last snapshot
/// taken at or before `x` (the first snapshot if none) and `next(x)` the first one taken at
/// or after `x`. Otherwise it is *wrong*: a MAC that was not the VIP's agent anywhere
/// near that moment (another adapter's, the kernel's own answer, a foreign one), a reply
/// for a VIP that had no agent then (withdrawn by a reload, never configured), or a frame
/// whose Ethernet source and ARP sender disagree.
///
/// The window always contains the snapshots just before and just after the reply, so a
/// move of the agent between two polls is allowed either way however slowly the status is
/// polled; `grace` widens it for the time between the engine's status and the answer table
/// the capture threads read (a move publishes the new agent's table before the old one is
/// withdrawn: make-before-break), and for a reply that waited in a socket buffer.
///
/// The snapshots come from polling `status --all`; two changes of one VIP can fall between
/// two polls (a failover, then a reload withdrawing the VIP, 0.5 s apart). So the daemon's
/// own record of each agent selection, its state trace (``recordSelection(of:mac:at:)``),
/// also counts: a MAC the trace shows selected as `v`'s agent at a time in
/// `[prev(t − grace), t + grace]` is allowed too.
///
/// A reply is judged once a snapshot at or after `t + grace` exists and, when the trace is
/// followed, once the trace has been read up to `t + grace` (``recordTrace(through:)``): the
/// trace client's output can lag the status polls, and a reply judged before the selection
/// that justifies it was read would be counted wrong (``check()``); or at the end over what
/// there is (``finish()``).
public struct SoakReplyChecker: Sendable {
    /// The allowance around each reply, nanoseconds.
    public let grace: Int64
    /// Replies judged.
    public private(set) var checked: UInt64 = 0
    /// Replies judged wrong.
    public private(set) var wrong: UInt64 = 0
    /// The first wrong replies (at most ``exampleLimit``).
    public private(set) var examples: [SoakWrongReply] = []
    /// How many wrong replies are kept as examples.
    public let exampleLimit: Int
    /// How long snapshots are kept for replies not added yet, nanoseconds.
    public let retention: Int64

    private var snapshots: [SoakAgentSnapshot] = []
    private var selections: [IPv4Address: [(at: Int64, mac: MACAddress)]] = [:]
    private var selectionsPrunedAt: Int64 = 0
    private var pending: [SoakReply] = []
    private var pendingStart = 0
    /// The latest monotonic time of any trace record read; nil: the trace is not followed.
    private var traceReadThrough: Int64?

    /// Creates a checker with `grace` nanoseconds around each reply.
    public init(grace: Int64, exampleLimit: Int = 20, retention: Int64 = 120_000_000_000) {
        self.grace = grace
        self.exampleLimit = exampleLimit
        self.retention = retention
    }

    /// Replies not judged yet.
    public var unjudged: Int { pending.count - pendingStart }

    /// Adds a status snapshot (snapshots arrive in time order; an older one is ignored).
    public mutating func record(_ snapshot: SoakAgentSnapshot) {
        if let last = snapshots.last, snapshot.at < last.at { return }
        snapshots.append(snapshot)
    }

    /// Adds one agent selection from the daemon's trace: `mac` became `vip`'s agent at `at`.
    public mutating func recordSelection(of vip: IPv4Address, mac: MACAddress, at: Int64) {
        selections[vip, default: []].append((at, mac))
    }

    /// The trace has been read up to `at` (the time of its latest record): every selection
    /// up to then has been recorded.
    public mutating func recordTrace(through at: Int64) {
        traceReadThrough = max(traceReadThrough ?? at, at)
    }

    /// Adds replies to judge, in the order they were received (the generator's ring keeps it).
    public mutating func add(_ replies: some Sequence<SoakReply>) {
        pending.append(contentsOf: replies)
    }

    /// Judges every reply whose window is closed, and forgets what no reply needs any more.
    public mutating func check() {
        guard var latest = snapshots.last?.at else { return }
        if let traceReadThrough { latest = min(latest, traceReadThrough) }
        let grace = self.grace
        judge { $0.at + grace <= latest }
    }

    /// Judges every reply left, over the snapshots there are.
    public mutating func finish() {
        judge { _ in true }
    }

    private mutating func judge(while ready: (SoakReply) -> Bool) {
        guard !snapshots.isEmpty else { return }
        while pendingStart < pending.count, ready(pending[pendingStart]) {
            judge(pending[pendingStart])
            pendingStart += 1
        }
        if pendingStart > 4096 {
            pending.removeFirst(pendingStart)
            pendingStart = 0
        }
        // Keep the snapshots the oldest unjudged reply's window may start at, and every one of
        // the last ``retention``: replies are added in batches, late (the soak drains its
        // generator after each report line's burst of readings), and a batch still to come
        // needs the snapshots of its time. (Without the retention, a check with nothing
        // pending kept only the latest snapshot, and the next batch was judged against it.)
        let oldestPending = pendingStart < pending.count ? pending[pendingStart].at : Int64.max
        let horizon = min(oldestPending, (snapshots.last?.at ?? 0) - retention) - grace
        let keepFrom = max(0, (lastIndex(atOrBefore: horizon) ?? 0))
        if keepFrom > 64 { snapshots.removeFirst(keepFrom) }
        // Selections older than the first snapshot kept are in it (when still current).
        if let first = snapshots.first?.at, first - selectionsPrunedAt > 10_000_000_000 {
            selectionsPrunedAt = first
            selections = selections.compactMapValues { list in
                let kept = list.filter { $0.at >= first }
                return kept.isEmpty ? nil : kept
            }
        }
    }

    private mutating func judge(_ reply: SoakReply) {
        checked += 1
        let window = window(for: reply)
        let from = min(window.first?.at ?? reply.at, reply.at - grace)
        let selected = (selections[reply.vip] ?? []).filter { $0.at >= from && $0.at <= reply.at + grace }.map(\.mac)
        if let reason = Self.fault(reply, in: window, selected: selected) {
            wrong += 1
            if examples.count < exampleLimit {
                examples.append(.init(at: reply.at, vip: reply.vip.description, mac: reply.mac.description, reason: reason))
            }
        }
    }

    /// The snapshots of `reply`'s window.
    private func window(for reply: SoakReply) -> ArraySlice<SoakAgentSnapshot> {
        let first = lastIndex(atOrBefore: reply.at - grace) ?? 0
        let afterEnd = (firstIndex(atOrAfter: reply.at + grace) ?? snapshots.count - 1) + 1
        return snapshots[first..<max(first + 1, afterEnd)]
    }

    /// Why `reply` is wrong given the snapshots of its window and the trace's selections in
    /// it, or nil when it is right.
    static func fault(_ reply: SoakReply, in window: ArraySlice<SoakAgentSnapshot>, selected: [MACAddress]) -> String? {
        if reply.ethernetSourceDiffers { return "Ethernet source differs from the ARP sender MAC" }
        let agents = Set(window.compactMap { $0.agents[reply.vip] } + selected)
        if agents.contains(reply.mac) { return nil }
        if agents.isEmpty { return "the VIP had no agent in any status of the window (\(window.count) snapshots) nor in the trace" }
        return "not the agent: status and trace said \(agents.map(\.description).sorted().joined(separator: " or "))"
    }

    /// Index of the last snapshot taken at or before `time`.
    private func lastIndex(atOrBefore time: Int64) -> Int? {
        var low = 0
        var high = snapshots.count
        while low < high {
            let middle = (low + high) / 2
            if snapshots[middle].at <= time { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? nil : low - 1
    }

    /// Index of the first snapshot taken at or after `time`.
    private func firstIndex(atOrAfter time: Int64) -> Int? {
        var low = 0
        var high = snapshots.count
        while low < high {
            let middle = (low + high) / 2
            if snapshots[middle].at < time { low = middle + 1 } else { high = middle }
        }
        return low == snapshots.count ? nil : low
    }
}
