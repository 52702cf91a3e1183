import Foundation
import ProxyARPCore
import Yams

/// The `cluster:` mapping: etcd endpoints, TLS, auth, host name, lease TTL, key prefix and
/// the quorum-loss policy. Absent: nil, one host alone, exactly as without cluster mode.
enum ClusterSection {
    static let keys = ["etcd", "host", "lease_ttl", "key_prefix", "on_quorum_loss", "rebalance_after"]
    static let etcdKeys = ["endpoints", "tls", "username", "password"]
    static let tlsKeys = ["ca", "cert", "key"]
    /// etcd's own limits: a lease below 1 s is refused by this file (etcd raises it anyway to
    /// 1.5 × its election timeout), above 60 s takeover is too slow to be useful.
    static let leaseTTLRange: ClosedRange<Duration> = .seconds(1) ... .seconds(60)

    /// Reads the section; nil when it is absent or has errors (they are reported).
    static func read(_ node: Node?, _ diagnostics: inout Diagnostics) -> ClusterConfiguration? {
        guard let node,
            let reader = MappingReader(node, path: "cluster", allowed: keys, diagnostics: &diagnostics)
        else { return nil }
        let errorsBefore = diagnostics.errors.count
        var etcd = EtcdConfiguration(endpoints: [])
        if let etcdNode = reader.required("etcd", diagnostics: &diagnostics) {
            etcd = readEtcd(etcdNode, &diagnostics)
        }
        var host = localHostName()
        if let value = reader["host"], let name = ScalarReaders.nonEmptyString(value, "cluster.host", &diagnostics) {
            if name.contains("/") || name.utf8.count > 253 {
                diagnostics.report(value, "cluster.host", "\"\(name)\" is not a host name (no \"/\", at most 253 bytes)")
            } else {
                host = name
            }
        }
        var cluster = ClusterConfiguration(etcd: etcd, host: host)
        if let value = reader["lease_ttl"], let ttl = ScalarReaders.duration(value, "cluster.lease_ttl", &diagnostics) {
            if !leaseTTLRange.contains(ttl) || ttl.components.attoseconds != 0 {
                diagnostics.report(value, "cluster.lease_ttl", "\(DurationText.format(ttl)) must be whole seconds between 1s and 60s (etcd leases count seconds)")
            } else {
                cluster.leaseTTL = ttl
            }
        }
        if let value = reader["key_prefix"], let prefix = ScalarReaders.nonEmptyString(value, "cluster.key_prefix", &diagnostics) {
            if !prefix.hasPrefix("/") || !prefix.hasSuffix("/") {
                diagnostics.report(value, "cluster.key_prefix", "\"\(prefix)\" must start and end with \"/\" (e.g. /proxyarpd/lan1/)")
            } else {
                cluster.keyPrefix = prefix
            }
        }
        if let value = reader["on_quorum_loss"], let text = ScalarReaders.string(value, "cluster.on_quorum_loss", &diagnostics) {
            if let policy = QuorumLossPolicy(rawValue: text) {
                cluster.onQuorumLoss = policy
            } else {
                let names = QuorumLossPolicy.allCases.map(\.rawValue).joined(separator: ", ")
                diagnostics.report(value, "cluster.on_quorum_loss", "\"\(text)\" is not a policy: use one of \(names)")
            }
        }
        if let value = reader["rebalance_after"],
            let after = ScalarReaders.duration(value, "cluster.rebalance_after", allowOff: true, &diagnostics)
        {
            if after > .seconds(3600) {
                diagnostics.report(value, "cluster.rebalance_after", "\(DurationText.format(after)) is longer than 1h; write off to never rebalance")
            } else {
                cluster.rebalanceAfter = after
            }
        }
        return diagnostics.errors.count == errorsBefore ? cluster : nil
    }

    /// The kernel's host name (`gethostname`, no DNS look-up), "localhost" if it has none.
    static func localHostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }

    private static func readEtcd(_ node: Node, _ diagnostics: inout Diagnostics) -> EtcdConfiguration {
        var etcd = EtcdConfiguration(endpoints: [])
        guard let reader = MappingReader(node, path: "cluster.etcd", allowed: etcdKeys, diagnostics: &diagnostics) else {
            return etcd
        }
        if let value = reader.required("endpoints", diagnostics: &diagnostics) {
            etcd.endpoints = readEndpoints(value, &diagnostics)
        }
        if let value = reader["tls"], !value.isNull {
            etcd.tls = readTLS(value, &diagnostics)
        }
        let username = reader["username"].flatMap { ScalarReaders.nonEmptyString($0, "cluster.etcd.username", &diagnostics) }
        let password = reader["password"].flatMap { ScalarReaders.string($0, "cluster.etcd.password", &diagnostics) }
        if username != nil, password == nil, reader["password"] == nil {
            diagnostics.report(reader.keyNode("username") ?? node, "cluster.etcd", "\"username\" needs \"password\" too")
        } else if username == nil, password != nil, reader["username"] == nil {
            diagnostics.report(reader.keyNode("password") ?? node, "cluster.etcd", "\"password\" needs \"username\" too")
        }
        etcd.username = username
        etcd.password = password
        return etcd
    }

    private static func readEndpoints(_ node: Node, _ diagnostics: inout Diagnostics) -> [String] {
        let path = "cluster.etcd.endpoints"
        guard case .sequence(let sequence) = node, !sequence.isEmpty else {
            diagnostics.report(node, path, "expected a non-empty list of URLs such as http://198.18.9.1:2379, got \(node.kindDescription)")
            return []
        }
        var endpoints: [String] = []
        for (index, item) in sequence.enumerated() {
            let itemPath = "\(path)[\(index)]"
            guard let text = ScalarReaders.nonEmptyString(item, itemPath, &diagnostics) else { continue }
            guard let url = URL(string: text), let scheme = url.scheme, scheme == "http" || scheme == "https",
                url.host != nil, url.path.isEmpty || url.path == "/"
            else {
                diagnostics.report(item, itemPath, "\"\(text)\" is not an etcd client URL: write http://HOST:PORT or https://HOST:PORT")
                continue
            }
            if endpoints.contains(text) {
                diagnostics.report(item, itemPath, "\"\(text)\" is listed twice")
                continue
            }
            endpoints.append(text.hasSuffix("/") ? String(text.dropLast()) : text)
        }
        return endpoints
    }

    private static func readTLS(_ node: Node, _ diagnostics: inout Diagnostics) -> EtcdTLSConfiguration? {
        guard let reader = MappingReader(node, path: "cluster.etcd.tls", allowed: tlsKeys, diagnostics: &diagnostics),
            let caNode = reader.required("ca", diagnostics: &diagnostics),
            let ca = ScalarReaders.absolutePath(caNode, "cluster.etcd.tls.ca", &diagnostics)
        else { return nil }
        let cert = reader["cert"].flatMap { ScalarReaders.absolutePath($0, "cluster.etcd.tls.cert", &diagnostics) }
        let key = reader["key"].flatMap { ScalarReaders.absolutePath($0, "cluster.etcd.tls.key", &diagnostics) }
        if (reader["cert"] == nil) != (reader["key"] == nil) {
            diagnostics.report(node, "cluster.etcd.tls", "\"cert\" and \"key\" go together: give both or neither")
            return nil
        }
        return EtcdTLSConfiguration(caFile: ca, certificateFile: cert, keyFile: key)
    }
}
