import CLinuxNet
import Glibc
import Logging
import ProxyARPCore
import Synchronization

/// Link state from rtnetlink (ARCHITECTURE.md §2): a dump of links and IPv4 addresses at
/// start, then the `RTMGRP_LINK` and `RTMGRP_IPV4_IFADDR` multicast groups.
///
/// The socket is read on a dedicated ``PlatformThread`` blocked in `poll(2)` on the netlink
/// socket and a ``WakeSignal`` (for ``stop()``), never on Swift's cooperative pool. Each
/// change is yielded as soon as its message arrives, so a carrier loss reaches the
/// stream within about a millisecond.
///
/// - `carrier` is `IFF_RUNNING` (operstate UP, or UNKNOWN for drivers that do not
///   report operstate, such as `lo`): false on carrier loss and on admin down.
/// - `.changed` is yielded only when a link's ``LinkState`` differs from the last one
///   yielded (every link once at start); a rename is `.removed(old)` then `.changed`.
/// - On `ENOBUFS` (the kernel dropped notifications because the socket buffer was full)
///   the monitor dumps everything again and yields the differences.
/// - With `namespacePath` the thread first joins that network namespace, so tests and
///   the demo can watch a namespace without moving the process.
/// - A `tap` sees each event on the monitor's thread just before it is yielded: the
///   daemon's ``StandbyAnnouncer`` announces the standby agents of a lost link from there,
///   without waiting for the stream's consumer on the cooperative pool.
public final class NetlinkLinkMonitor: LinkEvents {
    /// Called on the monitor's thread with each event before it is yielded; it must not block.
    public typealias Tap = @Sendable (LinkEvent) -> Void

    private let names: Set<AdapterName>?
    private let tap: Tap?
    private let namespacePath: String?
    private let logger: Logger
    private let stopSignal: WakeSignal?
    private let receiveBufferSize: Int32
    private let counters = MonitorCounters()
    private let control = Mutex<Control>(Control())

    private struct Control {
        var started = false
        var thread: PlatformThread?
    }

    /// Creates a monitor of the links named in `names` (every link when nil), in the
    /// network namespace at `namespacePath` (`/var/run/netns/NAME`) or the caller's own.
    /// Nothing is opened until ``events()``. `receiveBufferSize` is the kernel buffer for
    /// notifications (4 MiB; set with `SO_RCVBUFFORCE` when privileged): when it
    /// overflows the monitor resynchronises (see ``resynchronisations``). `tap` sees every
    /// event first, on the monitor's thread.
    public init(names: Set<AdapterName>? = nil, namespacePath: String? = nil,
                receiveBufferSize: Int32 = 4 << 20, logger: Logger = Logger(label: "proxyarpd.netlink"),
                tap: Tap? = nil) {
        self.names = names
        self.tap = tap
        self.receiveBufferSize = receiveBufferSize
        self.namespacePath = namespacePath
        self.logger = logger
        self.stopSignal = try? WakeSignal(name: "link-monitor")
    }

    deinit {
        stop()
    }

    /// How many times the kernel dropped notifications (`ENOBUFS`) and the monitor dumped
    /// everything again. Readable from any thread.
    public var resynchronisations: Int { counters.resynchronisations.load(ordering: .relaxed) }

    /// Starts the monitor thread and returns its events: first `.changed` for every
    /// current link, then changes. Call once; a second call returns a finished stream.
    /// The stream finishes after ``stop()`` or when the socket fails.
    public func events() -> AsyncStream<LinkEvent> {
        let (stream, continuation) = AsyncStream<LinkEvent>.makeStream(bufferingPolicy: .unbounded)
        let first = control.withLock { control in
            defer { control.started = true }
            return !control.started
        }
        guard first, let stopSignal else {
            logger.error("link monitor: events() called twice or eventfd unavailable; returning a finished stream")
            continuation.finish()
            return stream
        }
        continuation.onTermination = { _ in stopSignal.signal() }
        let (tap, sink) = (self.tap, continuation)
        let emit: @Sendable (LinkEvent) -> Void = { event in
            tap?(event)
            sink.yield(event)
        }
        let worker = MonitorWorker(
            names: names, emit: emit, namespacePath: namespacePath, receiveBufferSize: receiveBufferSize, logger: logger,
            stopSignal: stopSignal, counters: counters, continuation: continuation)
        do {
            let thread = try NetworkNamespace.startThread(named: "link-monitor") { worker.run() }
            control.withLock { $0.thread = thread }
        } catch {
            logger.error("link monitor: cannot start its thread: \(error)")
            continuation.finish()
        }
        return stream
    }

    /// Stops the monitor thread, finishes the stream and waits for the thread to end.
    /// Idempotent.
    public func stop() {
        stopSignal?.signal()
        let thread = control.withLock { $0.thread.take() }
        thread?.join()
    }
}

/// Counters shared by the monitor and its thread.
private final class MonitorCounters: Sendable {
    let resynchronisations = Atomic<Int>(0)
}

/// Everything the monitor thread needs; owned by that thread.
private final class MonitorWorker: Sendable {
    let names: Set<AdapterName>?
    /// Taps and yields one event.
    let emit: @Sendable (LinkEvent) -> Void
    let namespacePath: String?
    let receiveBufferSize: Int32
    let logger: Logger
    let stopSignal: WakeSignal
    let counters: MonitorCounters
    let continuation: AsyncStream<LinkEvent>.Continuation

    init(names: Set<AdapterName>?, emit: @escaping @Sendable (LinkEvent) -> Void, namespacePath: String?,
         receiveBufferSize: Int32, logger: Logger,
         stopSignal: WakeSignal, counters: MonitorCounters, continuation: AsyncStream<LinkEvent>.Continuation) {
        self.names = names
        self.emit = emit
        self.namespacePath = namespacePath
        self.receiveBufferSize = receiveBufferSize
        self.logger = logger
        self.stopSignal = stopSignal
        self.counters = counters
        self.continuation = continuation
    }

    func run() {
        defer { continuation.finish() }
        do throws(NetlinkError) {
            if let namespacePath { try NetworkNamespace.join(namespacePath) }
            // Subscribe first, then dump: no change can fall between the two.
            var events = try NetlinkSocket(
                groups: CLN_RTMGRP_LINK | CLN_RTMGRP_IPV4_IFADDR | CLN_RTMGRP_IPV6_IFADDR, receiveBufferSize: receiveBufferSize)
            var requests = try NetlinkSocket()
            var table = LinkTable()
            try table.load(from: &requests)
            table.emitDifferences(names: names, to: emit)
            logger.debug("link monitor: started", metadata: ["links": "\(table.links.count)"])
            try loop(events: &events, requests: &requests, table: &table)
        } catch {
            logger.error("link monitor: \(error); the link event stream ends")
        }
    }

    private func loop(events: inout NetlinkSocket, requests: inout NetlinkSocket, table: inout LinkTable) throws(NetlinkError) {
        var fds = [
            pollfd(fd: events.descriptor, events: Int16(POLLIN), revents: 0),
            pollfd(fd: stopSignal.descriptor, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            let ready = poll(&fds, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                throw NetlinkError(operation: "poll", code: errno)
            }
            if fds[1].revents != 0 { return }
            if fds[0].revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 && fds[0].revents & Int16(POLLIN) == 0 {
                throw NetlinkError(operation: "poll netlink socket", code: EIO)
            }
            // Drain everything queued, then go back to poll.
            while true {
                let messages: [NetlinkMessage]?
                do throws(NetlinkError) {
                    messages = try events.receive(flags: Int32(MSG_DONTWAIT), label: "recv link events")
                } catch where error.code == ENOBUFS {
                    counters.resynchronisations.add(1, ordering: .relaxed)
                    logger.warning("link monitor: kernel dropped notifications (ENOBUFS); resynchronising")
                    // The kernel reports the overrun before the messages still queued, which
                    // are older than the dump about to be taken: replaying them after it
                    // would leave stale states (seen in the burst test). Discard them first;
                    // everything queued from here on is newer and is applied in order.
                    try discardQueued(on: &events)
                    try table.load(from: &requests)
                    table.emitDifferences(names: names, to: emit)
                    continue
                }
                guard let messages else { break }
                let readAt = MonotonicClock.wallNanoseconds()
                for message in messages {
                    table.apply(message)
                }
                let yielded = table.emitDifferences(names: names, to: emit)
                // When the thread read a link change, to set the engine's reaction against
                // (the failover tests' timelines read it from the debug log).
                if logger.logLevel <= .debug {
                    for state in yielded {
                        logger.debug(
                            "link monitor: link state read",
                            metadata: [
                                "adapter": "\(state.name)", "adminUp": "\(state.adminUp)", "carrier": "\(state.carrier)",
                                "readAtWallNanoseconds": "\(readAt)",
                            ])
                    }
                }
            }
        }
    }
}

extension MonitorWorker {
    /// Reads and drops every queued notification (and any further overrun report).
    fileprivate func discardQueued(on events: inout NetlinkSocket) throws(NetlinkError) {
        for _ in 0..<100_000 {
            do throws(NetlinkError) {
                guard try events.receive(flags: Int32(MSG_DONTWAIT), label: "recv link events") != nil else { return }
            } catch where error.code == ENOBUFS {
                continue
            }
        }
    }
}

/// The monitor's view of every link, and what it last yielded.
struct LinkTable {
    var links: [Int32: LinkRecord] = [:]
    var addresses: [Int32: [AddressRecord]] = [:]
    /// Global, non-tentative IPv6 addresses by interface index.
    var ipv6: [Int32: [IPv6Prefix]] = [:]
    var yielded: [Int32: LinkState] = [:]

    /// Replaces the table with a fresh dump; ``emitDifferences`` then reports what changed.
    mutating func load(from socket: inout NetlinkSocket) throws(NetlinkError) {
        links = [:]
        addresses = [:]
        ipv6 = [:]
        for message in try socket.dump(RouteRequests.dumpLinks()) {
            if let link = LinkRecord(message) { links[link.index] = link }
        }
        for message in try socket.dump(RouteRequests.dumpIPv4Addresses()) {
            if let address = AddressRecord(message) { addresses[address.index, default: []].append(address) }
        }
        // A kernel without IPv6 refuses the dump: no IPv6 prefixes then.
        for message in (try? socket.dump(RouteRequests.dumpIPv6Addresses())) ?? [] {
            if let record = IPv6AddressRecord(message), record.usable { ipv6[record.index, default: []].append(record.prefix) }
        }
    }

    mutating func apply(_ message: NetlinkMessage) {
        switch Int(message.type) {
        case Int(RTM_NEWLINK):
            if let link = LinkRecord(message) { links[link.index] = link }
        case Int(RTM_DELLINK):
            if let link = LinkRecord(message) {
                links[link.index] = nil
                addresses[link.index] = nil
                ipv6[link.index] = nil
            }
        case Int(RTM_NEWADDR) where IPv6AddressRecord(message) != nil:
            // A tentative address is reported again once DAD is over; only usable ones count.
            let record = IPv6AddressRecord(message)!
            ipv6[record.index]?.removeAll { $0 == record.prefix }
            if record.usable { ipv6[record.index, default: []].append(record.prefix) }
        case Int(RTM_DELADDR) where IPv6AddressRecord(message) != nil:
            let record = IPv6AddressRecord(message)!
            ipv6[record.index]?.removeAll { $0 == record.prefix }
        case Int(RTM_NEWADDR):
            if let address = AddressRecord(message) {
                var list = addresses[address.index, default: []]
                if let at = list.firstIndex(where: { $0.interface == address.interface }) {
                    list[at] = address
                } else {
                    list.append(address)
                }
                addresses[address.index] = list
            }
        case Int(RTM_DELADDR):
            if let address = AddressRecord(message) {
                addresses[address.index]?.removeAll { $0.interface == address.interface }
            }
        default:
            break
        }
    }

    func state(of link: LinkRecord) -> LinkState {
        let list = addresses[link.index] ?? []
        // Primary addresses first, each group in kernel order.
        let ordered = list.filter { !$0.secondary } + list.filter(\.secondary)
        return LinkState(
            name: AdapterName(link.name), index: link.index, mac: link.mac, adminUp: link.adminUp,
            carrier: link.carrier, interfaces: ordered.map(\.interface), ipv6Prefixes: ipv6[link.index] ?? [])
    }

    /// Yields `.removed` for links gone (or renamed) and `.changed` for links whose state
    /// differs from the last yielded one, in interface-index order. Returns the `.changed` states.
    @discardableResult
    mutating func emitDifferences(names: Set<AdapterName>?, to emit: (LinkEvent) -> Void) -> [LinkState] {
        var changed: [LinkState] = []
        for (index, old) in yielded.sorted(by: { $0.key < $1.key }) {
            if let link = links[index], link.name == old.name.rawValue { continue }
            yielded[index] = nil
            if names?.contains(old.name) ?? true { emit(.removed(old.name)) }
        }
        for (index, link) in links.sorted(by: { $0.key < $1.key }) {
            let state = state(of: link)
            guard yielded[index] != state else { continue }
            yielded[index] = state
            if names?.contains(state.name) ?? true {
                emit(.changed(state))
                changed.append(state)
            }
        }
        return changed
    }
}
