import Logging
import ProxyARPCore
import ProxyARPIO

/// The real world the engine talks to: libpcap on every managed adapter (with the XDP fast
/// path below it, per `io.fast_path`), rtnetlink for
/// link state (whose thread announces a lost link's standby agents), and rtnetlink + /proc/sys for the host side of activation.
struct LiveWorld {
    /// Frames: batched pcap I/O.
    let io: PcapFrameIO
    /// Link state.
    let links: NetlinkLinkMonitor
    /// Local addresses, policy rules, sysctls: rtnetlink run on the leader thread, the one
    /// that keeps CAP_NET_ADMIN after the privilege drop.
    let host: PrivilegedHost
    /// Runs the capture threads for the lifetime of the service group.
    let ioService: FrameIOService

    /// Opens capture on every configured adapter and the netlink sockets.
    static func open(configuration: DaemonConfiguration, logger: Logger) throws -> LiveWorld {
        let names = configuration.adapters.map(\.name)
        let fastPath = try loadFastPath(configuration: configuration, logger: logger)
        var options = PcapOptions()
        options.narrowsFilter = configuration.io.captureFilter == .narrow
        // IPv6 VIPs need Neighbor Discovery captured too: opened with it when the file has
        // some, so nothing is missed before the first table. Each capture then follows the
        // table (AdapterIO): with Neighbor Discovery while there are IPv6 VIPs (a reload may
        // add the first or remove the last), narrowed to what the adapter needs.
        if configuration.vips.contains(where: { $0.address.family == .ipv6 }) {
            options.filter = PcapOptions.filterWithNeighborDiscovery
            logger.info("capturing Neighbor Discovery for IPv6 VIPs", metadata: ["filter": "\(options.filter)"])
        }
        let io = try PcapFrameIO(adapters: names, options: options, fastPath: fastPath, logger: logger)
        if configuration.io.fastPath == .xdp, let failure = io.fastPathFailures.sorted(by: { $0.key < $1.key }).first {
            fastPath?.shutdown()
            throw failure.value  // io.fast_path: xdp promises XDP on every adapter
        }
        // The monitor's thread announces a lost link's standby agents before the engine hears of it.
        let standbys = StandbyAnnouncer(io: io, logger: logger)
        let links = NetlinkLinkMonitor(names: Set(names), logger: logger, tap: { standbys.linkEvent($0) })
        let host = PrivilegedHost(netlink: try NetlinkHost(
            logger: logger, blockPrefixLength: configuration.selection.blockPrefixLength))
        return LiveWorld(io: io, links: links, host: host, ioService: FrameIOService(io: io))
    }

    /// The XDP program for `io.fast_path` `xdp` or `auto`, loaded while the daemon still runs
    /// as root (loading needs CAP_BPF and CAP_NET_ADMIN; nothing XDP does later needs a
    /// capability). `xdp` fails when it cannot load; `auto` logs why and answers with pcap, and
    /// leaves veth adapters to pcap (an XDP_TX reply on a veth is lost unless its peer runs XDP).
    private static func loadFastPath(configuration: DaemonConfiguration, logger: Logger) throws -> XDPFastPath? {
        let mode = configuration.io.fastPath
        guard mode != .pcap else {
            logger.info("answering in pcap", metadata: ["reason": "io.fast_path is pcap"])
            return nil
        }
        do throws(XDPError) {
            return try XDPFastPath(
                adapters: configuration.adapters.map(\.name), vipCapacity: configuration.vips.count,
                attachesToVeth: mode == .xdp, logger: logger)
        } catch {
            guard mode == .auto else { throw error }
            logger.warning("answering in pcap: xdp did not load", metadata: ["reason": "\(error)"])
            return nil
        }
    }

    /// After the group stopped: stop the link monitor, remove every proxyarpd rule and route
    /// (the engine's withdrawals took this instance's VIPs off `lo`; with `removingLocal`,
    /// marked local addresses or routes some earlier instance left go too), and write back
    /// the adapters' sysctls as found at start.
    func close(removingLocal: Bool, logger: Logger) async {
        links.stop()
        do {
            let removed = try await host.cleanup(removingLocal: removingLocal)
            logger.info("host cleanup", metadata: [
                "rules": "\(removed.rules)", "routes": "\(removed.routes)", "local": "\(removed.local)",
            ])
        } catch {
            logger.error("host cleanup failed", metadata: ["error": "\(error)"])
        }
        do {
            let restored = try await host.restoreAdapterSysctls()
            logger.info("adapter sysctls restored", metadata: ["count": "\(restored)"])
        } catch {
            logger.error("restoring adapter sysctls failed", metadata: ["error": "\(error)"])
        }
    }
}
