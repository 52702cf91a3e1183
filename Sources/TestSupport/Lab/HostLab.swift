import ProxyARPCore

/// The standard lab: a host namespace with three adapters on one bridge (two on the
/// VIPs' subnet 198.18.0.0/24, one on 198.18.1.0/24), a client namespace on the same
/// bridge, and a switch namespace holding the bridge. Used by `proxyarpd-lab demo`, the
/// end-to-end tests and `proxyarpd-lab bench`.
///
///     client c0 ──┐
///     host   h0 ──┤ br0 (switch namespace, ports s-c0, s-h0, s-h1, s-h2)
///     host   h1 ──┤
///     host   h2 ──┘
public struct HostLab: Sendable {
    /// One host adapter.
    public struct Adapter: Sendable, Equatable {
        /// Name inside the host namespace.
        public var name: String
        /// Its MAC.
        public var mac: MACAddress
        /// Its address.
        public var address: IPv4Interface
        /// Its bridge port in the switch namespace.
        public var switchPort: String

        /// Creates an adapter description (``build(prefix:adapters:)`` makes it).
        public init(name: String, mac: MACAddress, address: IPv4Interface, switchPort: String) {
            self.name = name
            self.mac = mac
            self.address = address
            self.switchPort = switchPort
        }
    }

    /// The namespaces.
    public let lab: NetnsLab
    /// Host namespace (where the daemon runs).
    public let host: String
    /// Client namespace (arping, ping).
    public let client: String
    /// Switch namespace (the bridge).
    public let fabric: String
    /// The host's adapters.
    public let adapters: [Adapter]
    /// The client's interface name.
    public let clientDevice = "c0"
    /// The client's MAC.
    public let clientMAC = MACAddress(0x02, 0xc0, 0, 0, 0, 0x01)
    /// The client's addresses.
    public let clientAddresses = [IPv4Interface("198.18.0.1/24")!, IPv4Interface("198.18.1.1/24")!]
    /// The XDP program (object file, program name) the bridge-side peers of the host adapters
    /// run, also after ``recreateAdapter(_:)``: a veth delivers XDP_TX frames (driver mode)
    /// only to a peer with an XDP program of its own. Set by ``runOnSwitchPorts(object:program:)``.
    public private(set) var switchPortProgram: SwitchPortProgram?

    /// An XDP program for the switch ports.
    public struct SwitchPortProgram: Sendable, Equatable {
        /// The BPF object file.
        public var object: String
        /// The program's name in it.
        public var program: String
    }

    /// The default adapters: h0/h1 on 198.18.0.0/24, h2 on 198.18.1.0/24.
    public static let defaultAdapters = [
        Adapter(name: "h0", mac: MACAddress(0x02, 0xa0, 0, 0, 0, 0x10), address: IPv4Interface("198.18.0.10/24")!, switchPort: "s-h0"),
        Adapter(name: "h1", mac: MACAddress(0x02, 0xa0, 0, 0, 0, 0x11), address: IPv4Interface("198.18.0.11/24")!, switchPort: "s-h1"),
        Adapter(name: "h2", mac: MACAddress(0x02, 0xa0, 0, 0, 0, 0x12), address: IPv4Interface("198.18.1.10/24")!, switchPort: "s-h2"),
    ]

    /// Builds the lab. On failure everything already made is removed.
    public static func build(prefix: String, adapters: [Adapter] = defaultAdapters) async throws -> HostLab {
        let lab = NetnsLab(prefix: prefix)
        do {
            let host = try await lab.addNamespace("host")
            let client = try await lab.addNamespace("cli")
            let fabric = try await lab.addNamespace("sw")
            try await lab.ip(fabric, "link", "add", "br0", "type", "bridge", "stp_state", "0")
            try await lab.ip(fabric, "link", "set", "br0", "up")
            for adapter in adapters { try await plug(adapter, lab: lab, host: host, fabric: fabric) }
            let result = HostLab(lab: lab, host: host, client: client, fabric: fabric, adapters: adapters)
            try await Command.run(
                "ip",
                ["-n", client, "link", "add", result.clientDevice, "address", result.clientMAC.description, "type", "veth",
                 "peer", "name", "s-c0", "netns", fabric]
            )
            for address in result.clientAddresses {
                try await lab.ip(client, "addr", "add", address.description, "dev", result.clientDevice)
            }
            try await lab.ip(client, "link", "set", result.clientDevice, "up")
            try await lab.ip(fabric, "link", "set", "s-c0", "master", "br0", "up")
            return result
        } catch {
            lab.destroy()
            throw error
        }
    }

    /// Makes `adapter` in `host`: a veth (its MAC, its address, up) whose peer is a port
    /// of the fabric's bridge.
    private static func plug(_ adapter: Adapter, lab: NetnsLab, host: String, fabric: String) async throws {
        try await Command.run(
            "ip",
            ["-n", host, "link", "add", adapter.name, "address", adapter.mac.description, "type", "veth",
             "peer", "name", adapter.switchPort, "netns", fabric]
        )
        try await lab.ip(host, "addr", "add", adapter.address.description, "dev", adapter.name)
        try await lab.ip(host, "link", "set", adapter.name, "up")
        try await lab.ip(fabric, "link", "set", adapter.switchPort, "master", "br0", "up")
    }

    /// Deletes the host adapter `name` (`ip link del`; its bridge port goes with it).
    public func deleteAdapter(_ name: String) async throws {
        try await lab.ip(host, "link", "del", name)
    }

    /// Makes the adapter `name` again as the lab first made it: same name, MAC, address
    /// and bridge port (a new ifindex, and the kernel's default sysctls).
    public func recreateAdapter(_ name: String) async throws {
        try await Self.plug(adapter(name)!, lab: lab, host: host, fabric: fabric)
        if let switchPortProgram { try await attach(switchPortProgram, to: adapter(name)!.switchPort) }
    }

    /// Attaches `program` of the BPF object file `object` (driver mode) to every host
    /// adapter's bridge port, now and after ``recreateAdapter(_:)``.
    public mutating func runOnSwitchPorts(object: String, program: String) async throws {
        let chosen = SwitchPortProgram(object: object, program: program)
        switchPortProgram = chosen
        for adapter in adapters { try await attach(chosen, to: adapter.switchPort) }
    }

    private func attach(_ chosen: SwitchPortProgram, to port: String) async throws {
        try await lab.ip(fabric, "link", "set", "dev", port, "xdpdrv", "object", chosen.object, "program", chosen.program)
    }

    /// The adapter named `name`.
    public func adapter(_ name: String) -> Adapter? { adapters.first { $0.name == name } }

    /// The adapter that owns `mac`.
    public func adapter(owning mac: MACAddress) -> Adapter? { adapters.first { $0.mac == mac } }

    /// Carrier loss on a host adapter: its bridge-side peer goes down.
    public func cutCarrier(_ name: String) async throws {
        try await lab.ip(fabric, "link", "set", adapter(name)!.switchPort, "down")
    }

    /// Carrier back.
    public func restoreCarrier(_ name: String) async throws {
        try await lab.ip(fabric, "link", "set", adapter(name)!.switchPort, "up")
    }

    /// Admin down/up of the adapter itself.
    public func setAdmin(_ name: String, up: Bool) async throws {
        try await lab.ip(host, "link", "set", name, up ? "up" : "down")
    }

    /// Keeps carrier but takes the adapter's port off the bridge: it hears nobody.
    public func isolate(_ name: String) async throws {
        try await lab.ip(fabric, "link", "set", adapter(name)!.switchPort, "nomaster")
    }

    /// The client's neighbour entry for `address`: (MAC, state), or nil.
    public func clientNeighbour(_ address: IPv4Address) async throws -> (mac: MACAddress, state: String)? {
        let result = try await lab.ip(client, "neigh", "show", address.description, "dev", clientDevice)
        let words = result.output.split(separator: " ").map(String.init)
        guard let index = words.firstIndex(of: "lladdr"), index + 1 < words.count,
            let mac = MACAddress(words[index + 1])
        else { return nil }
        return (mac, words.last ?? "")
    }

    /// `arping` from the client: the MACs that answered for `address` (one per reply).
    public func arping(_ address: IPv4Address, count: Int = 1, timeoutSeconds: Int = 2) async throws -> [MACAddress] {
        let result = try await lab.exec(
            client, "arping", ["-c", "\(count)", "-w", "\(timeoutSeconds)", "-I", clientDevice, address.description],
            check: false
        )
        return Self.replyMACs(in: result.output)
    }

    /// The MACs in iputils arping output lines `Unicast reply from IP [MAC]  0.6ms`.
    public static func replyMACs(in output: String) -> [MACAddress] {
        output.split(separator: "\n").compactMap { line in
            guard line.contains("reply from"), let open = line.firstIndex(of: "["), let close = line.firstIndex(of: "]"),
                open < close
            else { return nil }
            return MACAddress(String(line[line.index(after: open)..<close]))
        }
    }

    /// `ping` from the client: (sent, received).
    public func ping(_ address: IPv4Address, count: Int, interval: String = "0.2", deadlineSeconds: Int = 10) async throws -> (sent: Int, received: Int) {
        let result = try await lab.exec(
            client, "ping", ["-n", "-q", "-c", "\(count)", "-i", interval, "-w", "\(deadlineSeconds)", address.description],
            check: false
        )
        return Self.pingCounts(in: result.output)
    }

    /// Parses `N packets transmitted, M received`.
    public static func pingCounts(in output: String) -> (sent: Int, received: Int) {
        guard let line = output.split(separator: "\n").first(where: { $0.contains("packets transmitted") }) else { return (0, 0) }
        let numbers = line.split(separator: ",").compactMap { part in
            part.split(separator: " ").first.flatMap { Int($0) }
        }
        return (numbers.first ?? 0, numbers.count > 1 ? numbers[1] : 0)
    }

    /// Removes every namespace.
    public func destroy() { lab.destroy() }
}

extension HostLab {
    /// A configuration file for a daemon in this lab: every host adapter, the given VIPs,
    /// and everything else under `directory`.
    public func configurationYAML(vips: [String], directory: String, timers: [String: String] = [:], extra: String = "") -> String {
        var lines = ["# written by the proxyarpd lab", "adapters:"]
        for adapter in adapters {
            lines.append("  - name: \(adapter.name)")
            lines.append("    address: \(adapter.address)")
        }
        lines.append("vips:")
        for vip in vips {
            let key = vip.contains("/") ? "cidr" : vip.contains("-") ? "range" : "address"
            lines.append("  - \(key): \(vip)")
        }
        if !timers.isEmpty {
            lines.append("timers:")
            for (key, value) in timers.sorted(by: { $0.key < $1.key }) { lines.append("  \(key): \(value)") }
        }
        // A section given in `extra` replaces the lab's default one.
        let given = Set(extra.split(separator: "\n").filter { !$0.hasPrefix(" ") }.map { String($0.prefix { $0 != ":" }) })
        if !given.contains("control") { lines += ["control:", "  socket: \(directory)/control.sock"] }
        if !given.contains("metrics") { lines += ["metrics:", "  listen: 127.0.0.1:0"] }
        if !given.contains("daemon") { lines += ["daemon:", "  state_directory: \(directory)/state"] }
        return lines.joined(separator: "\n") + "\n" + extra
    }
}
