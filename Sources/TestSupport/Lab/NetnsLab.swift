import ProxyARPCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The one namespace lab: a set of network namespaces with a unique prefix, and the
/// commands to run in them. The demo and the bench (``HostLab``), the end-to-end tests
/// and the I/O tests (``SegmentLab``, ``LabNamespace``) all build on it. Every namespace
/// it makes is deleted by ``destroy()``, which is synchronous so that a test can call it
/// from a `defer`.
///
/// Only addresses from 198.18.0.0/15 and 192.0.2.0/24 are used by the topologies built
/// on it; nothing is created outside its own namespaces except the root ends of
/// ``SegmentLab``'s veth pairs, which go with their peers.
public final class NetnsLab: Sendable {
    /// The prefix of every namespace name.
    public let prefix: String
    private let namespaces = Mutex<[String]>([])

    /// Creates a lab whose namespaces are named `PREFIX-...`.
    public init(prefix: String) {
        self.prefix = prefix
    }

    /// A fresh prefix for this process: `tag` + pid + a counter (short enough for names).
    public static func uniquePrefix(_ tag: String) -> String {
        "\(tag)\(getpid() % 100_000)x\(counter.add(1, ordering: .relaxed).newValue)"
    }

    private static let counter = Atomic<Int>(0)

    /// Where `ip netns` keeps namespace `name`: code under test enters it through this path.
    public static func path(of name: String) -> String { "/var/run/netns/\(name)" }

    /// Creates namespace `PREFIX-suffix` with `lo` up, and returns its name. A namespace of
    /// that name left by a crashed run is removed first.
    public func addNamespace(_ suffix: String) async throws -> String {
        let name = "\(prefix)-\(suffix)"
        Self.delete(name)
        try await Command.run("ip", ["netns", "add", name])
        namespaces.withLock { $0.append(name) }
        try await Command.run("ip", ["-n", name, "link", "set", "lo", "up"])
        return name
    }

    /// Runs `ip -n NAMESPACE ARGS...`.
    @discardableResult
    public func ip(_ namespace: String, _ arguments: String..., check: Bool = true) async throws -> Command.Result {
        try await ip(namespace, arguments, check: check)
    }

    /// Runs `ip -n NAMESPACE ARGS...`.
    @discardableResult
    public func ip(_ namespace: String, _ arguments: [String], check: Bool = true) async throws -> Command.Result {
        try await Command.run("ip", ["-n", namespace] + arguments, check: check)
    }

    /// Runs `COMMAND ARGS...` inside `namespace`.
    @discardableResult
    public func exec(_ namespace: String, _ command: String, _ arguments: [String], check: Bool = true) async throws -> Command.Result {
        try await Command.run("ip", ["netns", "exec", namespace, command] + arguments, check: check)
    }

    /// The contents of `file` as a process inside `namespace` reads it (e.g. a sysctl under
    /// `/proc/sys/net`), trimmed.
    public func read(_ namespace: String, _ file: String) async throws -> String {
        let output = try await exec(namespace, "cat", [file]).output
        return String(output.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }

    /// A veth pair `adapter`/`peer` inside `namespace`, both up; `address` (`A.B.C.D/len`),
    /// when given, on `adapter`.
    public func addVeth(in namespace: String, _ adapter: String, peer: String, address: String? = nil) async throws {
        try await ip(namespace, "link", "add", adapter, "type", "veth", "peer", "name", peer)
        try await ip(namespace, "link", "set", adapter, "up")
        try await ip(namespace, "link", "set", peer, "up")
        if let address { try await ip(namespace, "addr", "add", address, "dev", adapter) }
    }

    /// Deletes every namespace this lab made, as `ip netns del` does (detach the bind
    /// mount, remove the file; the kernel frees the namespace and every link in it once
    /// no process is left inside). Safe to call twice.
    public func destroy() {
        let names = namespaces.withLock { names in
            defer { names.removeAll() }
            return names
        }
        for name in names.reversed() { Self.delete(name) }
    }

    /// Namespaces still alive.
    public var liveNamespaces: [String] { namespaces.withLock { $0 } }

    private static func delete(_ name: String) {
        let path = path(of: name)
        _ = umount2(path, Int32(MNT_DETACH))
        _ = unlink(path)
    }
}
