import ProxyARPCore
import ProxyARPStateMachines

/// One VIP's outbound path to bind: what ``NetlinkHost/bindOutboundPaths(_:)`` takes.
public struct OutboundPathBinding: Sendable, Hashable {
    /// The VIP.
    public var vip: IPAddress
    /// The adapter its traffic is to leave by.
    public var agent: AdapterName
    /// The agent it had before (its rule is deleted after the new one is added).
    public var replacing: AdapterName?

    /// Creates a binding.
    public init(vip: IPAddress, agent: AdapterName, replacing: AdapterName?) {
        self.vip = vip
        self.agent = agent
        self.replacing = replacing
    }
}

extension NetlinkHost {
    /// Binds many VIPs at once, each as ``bindOutboundPath(of:to:replacing:)-(IPv4Address,_,_)``
    /// would, in order, but reading each agent's link and refreshing its table once per call
    /// instead of once per VIP.
    ///
    /// Why: a single IPv4 bind costs six netlink round trips (the agent's link, its addresses
    /// and the main default route, both dumps, for the table check; the replaced agent's
    /// link; the new rule; the old rule's deletion). When a flap moves hundreds of VIPs they
    /// queue on the leader thread one behind the other, and the last waits for all the
    /// others' dumps (issue 11's soak: VIPs `enqueued` for seconds at load 40). In a batch a
    /// VIP costs only its rule changes: two round trips for a move.
    ///
    /// Returns, for each binding in order, nil or the error that stopped it (the others
    /// still run). IPv6 VIPs take the single path.
    public func bindOutboundPaths(_ bindings: [OutboundPathBinding]) -> [HostNetworkingError?] {
        var results = [HostNetworkingError?](repeating: nil, count: bindings.count)
        var ipv4: [(index: Int, vip: IPv4Address, binding: OutboundPathBinding)] = []
        for (index, binding) in bindings.enumerated() {
            switch binding.vip {
            case .v4(let address):
                ipv4.append((index, address, binding))
            case .v6(let address):
                do {
                    try bindOutboundPath(of: address, to: binding.agent, replacing: binding.replacing)
                } catch {
                    results[index] = error
                }
            }
        }
        guard !ipv4.isEmpty else { return results }
        let blockPrefixLength = blockPrefixLength
        let logger = logger
        state.withLock { state in
            // Looked up once per call: a link by name (or why not), and each agent's table.
            var links: [AdapterName: Result<LinkRecord, NetlinkError>] = [:]
            var tables: [AdapterName: Result<UInt32, NetlinkError>] = [:]
            for (index, vip, binding) in ipv4 {
                do throws(NetlinkError) {
                    let table: UInt32
                    if let known = tables[binding.agent] {
                        table = try known.get()
                    } else {
                        let result: Result<UInt32, NetlinkError>
                        do throws(NetlinkError) {
                            let link = try state.socket.link(named: binding.agent.rawValue)
                            links[binding.agent] = .success(link)
                            result = .success(try state.tables.refreshIfChanged(of: link, socket: &state.socket, logger: logger))
                        } catch {
                            result = .failure(error)
                        }
                        tables[binding.agent] = result
                        table = try result.get()
                    }
                    try state.rules.installGuard(for: vip, socket: &state.socket, logger: logger)
                    var changes = state.bindings.bind(vip, to: table)
                    if blockPrefixLength == 32, let replacing = binding.replacing, replacing != binding.agent {
                        if links[replacing] == nil {
                            do throws(NetlinkError) {
                                links[replacing] = .success(try state.socket.link(named: replacing.rawValue))
                            } catch {
                                links[replacing] = .failure(error)
                            }
                        }
                        if case .success(let old) = links[replacing] {
                            let stale = BlockBindings.Rule(
                                source: state.bindings.block(of: vip), table: self.table(forInterfaceIndex: old.index))
                            if !changes.removed.contains(stale) { changes.removed.append(stale) }
                        }
                    }
                    try state.rules.apply(changes, socket: &state.socket)
                    logger.debug("bound \(vip) to \(binding.agent)", metadata: [
                        "table": "\(table)", "added": "\(changes.added)", "removed": "\(changes.removed)",
                    ])
                } catch {
                    results[index] = error.hostNetworkingError
                }
            }
        }
        return results
    }
}
