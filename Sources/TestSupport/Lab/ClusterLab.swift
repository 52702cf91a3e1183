import Foundation
import ProxyARPCore

#if canImport(Glibc)
import Glibc
#endif

/// Cluster mode's lab: a 3-member etcd (``EtcdLab``), `hostCount` host namespaces with two
/// adapters each on one client LAN (a bridge in a switch namespace), and a client.
///
///     client c0 ──┐
///     host k: a ──┤ br0 (switch namespace)          host k: eth9 ── ebr (etcd namespace, 3 members)
///             b ──┘
///
/// Host k's adapters `ea`/`eb` have MACs 02:b0:00:00:0k:0a / 0b and addresses
/// 198.18.0.(10k+1)/24 and (10k+2); the client is 198.18.0.1/24; host k reaches etcd from
/// 198.19.N.(100+k). ``startDaemon(_:binary:vips:directory:extra:)`` writes a config with a
/// `cluster:` section and runs the real daemon there; ``destroy()`` kills what it started
/// (by PID) and removes every namespace and file.
public final class ClusterLab: Sendable {
    /// The etcd members.
    public let etcd: EtcdLab
    /// The client namespace.
    public let client: String
    /// The switch namespace (the client LAN's bridge).
    public let fabric: String
    /// The host namespaces, `host0`...
    public let hosts: [String]
    /// Where configs and logs go.
    public let directory: String
    /// The client's interface.
    public let clientDevice = "c0"

    private init(etcd: EtcdLab, client: String, fabric: String, hosts: [String], directory: String) {
        self.etcd = etcd
        self.client = client
        self.fabric = fabric
        self.hosts = hosts
        self.directory = directory
    }

    /// The MAC of host `index`'s adapter `ea` or `eb`.
    public static func mac(host index: Int, adapter: String) -> MACAddress {
        MACAddress(0x02, 0xb0, 0, 0, UInt8(index), adapter == "ea" ? 0x0a : 0x0b)
    }

    /// The host whose adapter has `mac`, if any.
    public static func host(owning mac: MACAddress) -> Int? {
        guard mac.octet(0) == 0x02, mac.octet(1) == 0xb0 else { return nil }
        return Int(mac.octet(4))
    }

    /// The name host `index` has in the cluster.
    public static func hostName(_ index: Int) -> String { "host\(index)" }

    /// Builds the lab with `hostCount` hosts and an etcd of `members` members (TLS-only with `tls`).
    public static func build(hosts hostCount: Int, tag: String = "cl", members: Int = 3, tls: Bool = false) async throws -> ClusterLab {
        let etcd = try await EtcdLab.start(members: members, tag: tag, tls: tls)
        let lab = etcd.lab
        let directory = NSTemporaryDirectory() + "\(lab.prefix)-cluster"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let fabric = try await lab.addNamespace("sw")
            let client = try await lab.addNamespace("cli")
            try await lab.ip(fabric, "link", "add", "br0", "type", "bridge", "stp_state", "0")
            try await lab.ip(fabric, "link", "set", "br0", "up")
            try await Command.run(
                "ip", ["-n", client, "link", "add", "c0", "type", "veth", "peer", "name", "s-c0", "netns", fabric])
            try await lab.ip(client, "addr", "add", "198.18.0.1/24", "dev", "c0")
            try await lab.ip(client, "link", "set", "c0", "up")
            try await lab.ip(fabric, "link", "set", "s-c0", "master", "br0", "up")
            var hosts: [String] = []
            for index in 0..<hostCount {
                let host = try await lab.addNamespace("h\(index)")
                for (offset, adapter) in ["ea", "eb"].enumerated() {
                    let port = "s\(index)\(adapter)"
                    try await Command.run(
                        "ip",
                        ["-n", host, "link", "add", adapter, "address", mac(host: index, adapter: adapter).description,
                         "type", "veth", "peer", "name", port, "netns", fabric])
                    try await lab.ip(host, "addr", "add", "198.18.0.\(10 * (index + 1) + offset + 1)/24", "dev", adapter)
                    try await lab.ip(host, "link", "set", adapter, "up")
                    try await lab.ip(fabric, "link", "set", port, "master", "br0", "up")
                }
                try await etcd.attach(namespace: host, address: "\(etcd.subnet).\(100 + index)/24")
                hosts.append(host)
            }
            return ClusterLab(etcd: etcd, client: client, fabric: fabric, hosts: hosts, directory: directory)
        } catch {
            await etcd.destroy()
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    /// The config of host `index`: its two adapters, `vips`, a `cluster:` section naming the
    /// members (with the lab's client certificate when etcd serves TLS), `extraCluster`
    /// (more `cluster:` keys, indented two spaces), `extraEtcd` (more `cluster.etcd:` keys,
    /// indented four spaces, e.g. `username`), metrics on `127.0.0.1:metricsPort`
    /// (0: off) and `extra` (more sections, e.g. `selection:`).
    public func configurationYAML(
        host index: Int, vips: [String], leaseTTL: String = "1s", extraCluster: String = "", extraEtcd: String = "", metricsPort: Int = 0,
        extra: String = ""
    ) -> String {
        var lines = ["adapters:"]
        for (offset, adapter) in ["ea", "eb"].enumerated() {
            lines += ["  - name: \(adapter)", "    address: 198.18.0.\(10 * (index + 1) + offset + 1)/24"]
        }
        lines.append("vips:")
        for vip in vips {
            let key = vip.contains("/") ? "cidr" : vip.contains("-") ? "range" : "address"
            lines.append("  - \(key): \(vip)")
        }
        lines += ["control:", "  socket: \(directory)/h\(index).sock", "metrics:", "  listen: 127.0.0.1:\(metricsPort)",
                  "daemon:", "  state_directory: \(directory)/state\(index)",
                  "cluster:", "  etcd:", "    endpoints:"]
        lines += etcd.endpoints.map { "      - \($0)" }
        if let tls = etcd.tls {
            lines += ["    tls:", "      ca: \(tls.ca)", "      cert: \(tls.clientCertificate)", "      key: \(tls.clientKey)"]
        }
        if !extraEtcd.isEmpty { lines.append(extraEtcd) }
        lines += ["  host: \(Self.hostName(index))", "  lease_ttl: \(leaseTTL)", "  key_prefix: /proxyarpd/\(etcd.lab.prefix)/"]
        if !extraCluster.isEmpty { lines.append(extraCluster) }
        return lines.joined(separator: "\n") + "\n" + extra
    }

    /// The path of host `index`'s config file.
    public func configurationPath(host index: Int) -> String { "\(directory)/h\(index).yaml" }

    /// The path of host `index`'s control socket.
    public func socketPath(host index: Int) -> String { "\(directory)/h\(index).sock" }

    /// Writes host `index`'s config file (see ``configurationYAML(host:vips:leaseTTL:extraCluster:extraEtcd:metricsPort:extra:)``).
    public func writeConfiguration(
        host index: Int, vips: [String], leaseTTL: String = "1s", extraCluster: String = "", extraEtcd: String = "", metricsPort: Int = 0,
        extra: String = ""
    ) throws {
        try configurationYAML(
            host: index, vips: vips, leaseTTL: leaseTTL, extraCluster: extraCluster, extraEtcd: extraEtcd, metricsPort: metricsPort, extra: extra
        ).write(toFile: configurationPath(host: index), atomically: true, encoding: .utf8)
    }

    /// Writes host `index`'s config and starts `binary run --config …` in its namespace.
    public func startDaemon(
        _ index: Int, binary: String, vips: [String], leaseTTL: String = "1s", extraCluster: String = "", extraEtcd: String = "",
        metricsPort: Int = 0, extra: String = ""
    ) throws -> LabProcess {
        let config = configurationPath(host: index)
        try writeConfiguration(
            host: index, vips: vips, leaseTTL: leaseTTL, extraCluster: extraCluster, extraEtcd: extraEtcd, metricsPort: metricsPort, extra: extra)
        try FileManager.default.createDirectory(atPath: "\(directory)/state\(index)", withIntermediateDirectories: true)
        return try LabProcess(
            binary: binary, namespace: hosts[index], arguments: ["run", "--config", config], logPath: "\(directory)/h\(index).log")
    }

    /// `arping` from the client: the MACs that answered for `address` (one per reply).
    public func arping(_ address: String, count: Int = 1, timeoutSeconds: Int = 1) async throws -> [MACAddress] {
        let result = try await etcd.lab.exec(
            client, "arping", ["-c", "\(count)", "-w", "\(timeoutSeconds)", "-I", clientDevice, address], check: false)
        return HostLab.replyMACs(in: result.output)
    }

    /// Kills the daemons given, the etcd members, every namespace and the files.
    public func destroy(daemons: [LabProcess] = []) async {
        for daemon in daemons where daemon.isRunning {
            daemon.send(SIGKILL)
            await daemon.stop(timeout: .seconds(2))
        }
        await etcd.destroy()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
