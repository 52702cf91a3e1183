import Logging
import ProxyARPCore
import ProxyARPIO

/// The real world the engine talks to: libpcap on every managed adapter, rtnetlink for
/// link state, and rtnetlink + /proc/sys for the host side of activation.
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
        let io = try PcapFrameIO(adapters: names, logger: logger)
        let links = NetlinkLinkMonitor(names: Set(names), logger: logger)
        let host = PrivilegedHost(netlink: try NetlinkHost(
            logger: logger, blockPrefixLength: configuration.selection.blockPrefixLength))
        return LiveWorld(io: io, links: links, host: host, ioService: FrameIOService(io: io))
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
