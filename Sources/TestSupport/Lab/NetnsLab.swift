import ProxyARPCore

/// A set of network namespaces with a unique prefix, and the commands to run in them.
/// Every namespace it makes is deleted by ``destroy()``.
///
/// Only addresses from 198.18.0.0/15 and 192.0.2.0/24 are used by the topologies built
/// on it; nothing is created outside its own namespaces.
public actor NetnsLab {
    /// The prefix of every namespace name.
    public nonisolated let prefix: String
    private var namespaces: [String] = []

    /// Creates a lab whose namespaces are named `PREFIX-...`.
    public init(prefix: String) {
        self.prefix = prefix
    }

    /// A fresh prefix for this process: `tag` + pid + a counter (short enough for names).
    public static func uniquePrefix(_ tag: String) -> String {
        let counter = PrefixCounter.next()
        return "\(tag)\(getpid() % 100_000)x\(counter)"
    }

    /// Creates namespace `PREFIX-suffix` with `lo` up, and returns its name.
    public func addNamespace(_ suffix: String) async throws -> String {
        let name = "\(prefix)-\(suffix)"
        try await Command.run("ip", ["netns", "add", name])
        namespaces.append(name)
        try await Command.run("ip", ["-n", name, "link", "set", "lo", "up"])
        return name
    }

    /// Runs `ip -n NAMESPACE ARGS...`.
    @discardableResult
    public func ip(_ namespace: String, _ arguments: String..., check: Bool = true) async throws -> Command.Result {
        try await Command.run("ip", ["-n", namespace] + arguments, check: check)
    }

    /// Runs `COMMAND ARGS...` inside `namespace`.
    @discardableResult
    public func exec(_ namespace: String, _ command: String, _ arguments: [String], check: Bool = true) async throws -> Command.Result {
        try await Command.run("ip", ["netns", "exec", namespace, command] + arguments, check: check)
    }

    /// Deletes every namespace this lab made. Safe to call twice.
    public func destroy() async {
        for name in namespaces.reversed() {
            _ = try? await Command.run("ip", ["netns", "del", name], check: false)
        }
        namespaces.removeAll()
    }

    /// Namespaces still alive.
    public var liveNamespaces: [String] { namespaces }
}

#if canImport(Glibc)
import Glibc
#endif
import Synchronization

private enum PrefixCounter {
    static let value = Atomic<Int>(0)
    static func next() -> Int { value.add(1, ordering: .relaxed).newValue }
}
