import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A real etcd (Debian's `etcd-server`) for the cluster tests and the lab: 1 or 3 members
/// in a namespace of their own, on a bridge `ebr` with addresses `198.19.N.11...`, data in
/// a temporary folder. Hosts join the etcd segment through ``attach(namespace:address:)``;
/// the test process itself through ``attachRoot()`` (a veth whose root end gets
/// `198.19.N.1/24`, nothing else in the root namespace). Members are killed by their PID only;
/// ``destroy()`` kills them, deletes the data and the namespace.
///
/// Cluster members run with `--heartbeat-interval 50 --election-timeout 500`, so a 1 s
/// lease is allowed (etcd's minimum TTL is 1.5 × the election timeout, rounded up to 1 s).
public final class EtcdLab: Sendable {
    /// The namespace lab (the etcd namespace and any host namespaces attached later).
    public let lab: NetnsLab
    /// The etcd members' namespace.
    public let namespace: String
    /// `198.19.N`: the segment's first three octets.
    public let subnet: String
    /// The members' client URLs, `http://198.19.N.11:2379`...
    public let endpoints: [String]
    /// The certificates when the members serve clients over TLS (`--client-cert-auth`).
    public let tls: EtcdLabTLS?
    private let dataDirectory: String
    private let members = Mutex<[Int: LabProcess]>([:])
    private let attached = Atomic<Int>(0)

    /// The etcd binary.
    public static let binary = "/usr/bin/etcd"

    private init(lab: NetnsLab, namespace: String, subnet: String, memberCount: Int, dataDirectory: String, tls: EtcdLabTLS?) {
        self.lab = lab
        self.namespace = namespace
        self.subnet = subnet
        let scheme = tls == nil ? "http" : "https"
        self.endpoints = (0..<memberCount).map { "\(scheme)://\(subnet).\(11 + $0):2379" }
        self.dataDirectory = dataDirectory
        self.tls = tls
    }

    /// Starts `memberCount` members (1 or 3) and waits until every one is healthy. With
    /// `tls`, a CA, a server and a client certificate are made with `openssl` and the
    /// members serve clients over TLS only, requiring a client certificate.
    public static func start(members memberCount: Int, tag: String = "etc", tls: Bool = false) async throws -> EtcdLab {
        let prefix = NetnsLab.uniquePrefix(tag)
        let lab = NetnsLab(prefix: prefix)
        let octet = 20 + Int(getpid() % 100) + Int(prefix.hashValue & 0x7f)
        let subnet = "198.19.\(octet % 250)"
        let dataDirectory = NSTemporaryDirectory() + "\(prefix)-etcd"
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        do {
            let namespace = try await lab.addNamespace("etcd")
            let certificates: EtcdLabTLS? =
                if tls {
                    try await EtcdLabTLS.generate(in: dataDirectory + "/tls", addresses: (0..<memberCount).map { "\(subnet).\(11 + $0)" })
                } else {
                    nil
                }
            let etcd = EtcdLab(
                lab: lab, namespace: namespace, subnet: subnet, memberCount: memberCount, dataDirectory: dataDirectory, tls: certificates)
            try await lab.ip(namespace, "link", "add", "ebr", "type", "bridge")
            try await lab.ip(namespace, "link", "set", "ebr", "up")
            for index in 0..<memberCount {
                try await lab.ip(namespace, "addr", "add", "\(subnet).\(11 + index)/24", "dev", "ebr")
            }
            for index in 0..<memberCount { try etcd.startMember(index, state: "new") }
            try await etcd.waitHealthy()
            return etcd
        } catch {
            lab.destroy()
            try? FileManager.default.removeItem(atPath: dataDirectory)
            throw error
        }
    }

    /// Starts member `index` (again): `state` is `new` at creation, `existing` on a restart.
    public func startMember(_ index: Int, state: String = "existing") throws {
        let name = "m\(index)"
        let address = "\(subnet).\(11 + index)"
        let cluster = endpoints.indices.map { "m\($0)=http://\(subnet).\(11 + $0):2380" }.joined(separator: ",")
        var arguments = [
            "--name", name, "--data-dir", "\(dataDirectory)/\(name)",
            "--listen-client-urls", "\(endpoints[index])", "--advertise-client-urls", "\(endpoints[index])",
            "--listen-peer-urls", "http://\(address):2380", "--initial-advertise-peer-urls", "http://\(address):2380",
            "--initial-cluster", cluster, "--initial-cluster-state", state, "--initial-cluster-token", lab.prefix,
            "--heartbeat-interval", "50", "--election-timeout", "500", "--log-level", "warn",
        ]
        if let tls {
            arguments += ["--cert-file", tls.serverCertificate, "--key-file", tls.serverKey, "--trusted-ca-file", tls.ca, "--client-cert-auth"]
        }
        let process = try LabProcess(
            binary: Self.binary, namespace: namespace, arguments: arguments, logPath: "\(dataDirectory)/\(name).log")
        members.withLock { $0[index] = process }
    }

    /// Waits until every running member answers `/health` with `"health":"true"` (at most 20 s).
    public func waitHealthy() async throws {
        let running = members.withLock { Array($0.keys) }
        for _ in 0..<200 {
            var healthy = 0
            for index in running {
                let result = try await lab.exec(namespace, "curl", curlTLS + ["-s", "-m", "1", "\(endpoints[index])/health"], check: false)
                if result.output.contains("\"health\":\"true\"") { healthy += 1 }
            }
            if healthy == running.count { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw EtcdLabError(message: "etcd members did not become healthy; logs in \(dataDirectory)")
    }

    /// The index of the current leader (asked of each running member through
    /// `/v3/maintenance/status`), or nil when none says it leads.
    public func leaderIndex() async throws -> Int? {
        let running = members.withLock { Array($0.keys) }.sorted()
        for index in running {
            let result = try await lab.exec(
                namespace, "curl", curlTLS + ["-s", "-m", "1", "-X", "POST", "-d", "{}", "\(endpoints[index])/v3/maintenance/status"],
                check: false)
            guard let data = result.output.data(using: .utf8),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let header = object["header"] as? [String: Any], let member = header["member_id"] as? String,
                let leader = object["leader"] as? String
            else { continue }
            if member == leader { return index }
        }
        return nil
    }

    /// Kills member `index` with SIGKILL (by its PID) and waits for it to exit.
    public func killMember(_ index: Int) async {
        guard let process = members.withLock({ $0.removeValue(forKey: index) }) else { return }
        process.send(SIGKILL)
        await process.stop(timeout: .seconds(2))
    }

    /// Stops member `index` gracefully (SIGTERM, by its PID: a leader hands its leadership
    /// over first) and waits for it to exit.
    public func stopMember(_ index: Int) async {
        guard let process = members.withLock({ $0.removeValue(forKey: index) }) else { return }
        await process.stop(timeout: .seconds(5))
    }

    /// Starts member `index` again with its data (after ``stopMember(_:)`` or
    /// ``killMember(_:)``) and waits until every running member is healthy.
    public func restartMember(_ index: Int) async throws {
        try startMember(index, state: "existing")
        try await waitHealthy()
    }

    /// The indexes of the members running now.
    public var runningMembers: [Int] { members.withLock { Array($0.keys) }.sorted() }

    /// curl's TLS options for this lab (none without TLS).
    public var curlTLS: [String] {
        guard let tls else { return [] }
        return ["--cacert", tls.ca, "--cert", tls.clientCertificate, "--key", tls.clientKey]
    }

    /// `env` arguments that run `etcdctl` (API v3) against `endpoints` (default: the running
    /// members) as `user` (`name:password`) when given, with the lab's TLS files.
    public func etcdctlCommand(_ arguments: [String], user: String? = nil, endpoints chosen: [String]? = nil) -> [String] {
        var options = ["--endpoints", (chosen ?? runningMembers.map { endpoints[$0] }).joined(separator: ","), "--command-timeout", "5s"]
        if let tls { options += ["--cacert", tls.ca, "--cert", tls.clientCertificate, "--key", tls.clientKey] }
        if let user { options += ["--user", user] }
        return ["ETCDCTL_API=3", "/usr/bin/etcdctl"] + options + arguments
    }

    /// Runs `etcdctl` in the etcd namespace (see ``etcdctlCommand(_:user:endpoints:)``). Labs
    /// and tests only: the daemon never runs it.
    @discardableResult
    public func etcdctl(_ arguments: [String], user: String? = nil, check: Bool = true) async throws -> Command.Result {
        try await lab.exec(namespace, "env", etcdctlCommand(arguments, user: user), check: check)
    }

    /// Moves the leadership to member `index` (`etcdctl move-leader`, sent to the leader).
    public func moveLeader(to index: Int) async throws {
        guard let leader = try await leaderIndex() else { throw EtcdLabError(message: "no leader to move from") }
        // `member list` lines: `<hex id>, started, m<index>, <peer URL>, <client URL>, false`.
        let list = try await etcdctl(["member", "list"]).output
        guard let line = list.split(separator: "\n").first(where: { $0.contains(", m\(index),") }),
            let id = line.split(separator: ",").first
        else { throw EtcdLabError(message: "member m\(index) not in: \(list)") }
        try await lab.exec(namespace, "env", etcdctlCommand(["move-leader", String(id)], endpoints: [endpoints[leader]]))
    }

    /// Connects `namespace` to the etcd segment: a veth `eth9` there with `address`
    /// (`198.19.N.x/24`, x in 100...199), its peer on the bridge.
    public func attach(namespace hostNamespace: String, address: String) async throws {
        let index = attached.add(1, ordering: .relaxed).newValue
        let peer = "ev\(index)"
        try await lab.ip(namespace, "link", "add", peer, "type", "veth", "peer", "name", "eth9", "netns", hostNamespace)
        try await lab.ip(namespace, "link", "set", peer, "master", "ebr")
        try await lab.ip(namespace, "link", "set", peer, "up")
        try await lab.ip(hostNamespace, "addr", "add", address, "dev", "eth9")
        try await lab.ip(hostNamespace, "link", "set", "eth9", "up")
    }

    /// Cuts (or heals) `namespace`'s path to etcd by setting its `eth9` down (or up).
    public func setPath(of hostNamespace: String, up: Bool) async throws {
        try await lab.ip(hostNamespace, "link", "set", "eth9", up ? "up" : "down")
    }

    /// Connects the test process: a veth whose root end (`<prefix>r`) gets `198.19.N.1/24`.
    public func attachRoot() async throws {
        let rootEnd = lab.prefix + "r"
        try await Command.run("ip", ["link", "add", rootEnd, "type", "veth", "peer", "name", "evr", "netns", namespace])
        try await lab.ip(namespace, "link", "set", "evr", "master", "ebr")
        try await lab.ip(namespace, "link", "set", "evr", "up")
        try await Command.run("ip", ["addr", "add", "\(subnet).1/24", "dev", rootEnd])
        try await Command.run("ip", ["link", "set", rootEnd, "up"])
    }

    /// Kills every member (SIGKILL, by PID), deletes the namespaces (and so every veth) and the data.
    public func destroy() async {
        let running = members.withLock { all in
            defer { all.removeAll() }
            return Array(all.values)
        }
        for process in running {
            process.send(SIGKILL)
            await process.stop(timeout: .seconds(2))
        }
        lab.destroy()
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }
}

/// An etcd lab could not be built.
public struct EtcdLabError: Error, CustomStringConvertible {
    /// Why.
    public var message: String
    /// The message.
    public var description: String { message }
}
