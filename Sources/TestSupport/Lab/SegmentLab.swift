/// The capture lab of the I/O tests: a client namespace holding a bridge `br0`
/// (198.18.77.1/24) and the peer ends of two veth pairs, whose other ends ``adapterA``
/// and ``adapterB`` stay in the root namespace with no IPv4 address (and IPv6 disabled):
/// the two "host adapters" proxyarpd manages, sharing one segment. Deleting the client
/// namespace (``destroy()``) takes both pairs with it.
public struct SegmentLab: Sendable {
    /// The lab that owns the client namespace.
    public let lab: NetnsLab
    /// The client namespace.
    public let client: String
    /// The first root-namespace adapter.
    public let adapterA: String
    /// The second root-namespace adapter.
    public let adapterB: String
    /// The client's address on the bridge.
    public static let clientAddress = "198.18.77.1"

    /// Builds the lab; names carry `<tag><pid>x<n>`. On failure everything made is removed.
    public static func build(_ tag: String = "pio") async throws -> SegmentLab {
        let prefix = NetnsLab.uniquePrefix(tag)
        let lab = NetnsLab(prefix: prefix)
        do {
            let client = try await lab.addNamespace("c")
            let segment = SegmentLab(lab: lab, client: client, adapterA: prefix + "a", adapterB: prefix + "b")
            for (adapter, peer) in [(segment.adapterA, "pa"), (segment.adapterB, "pb")] {
                try await Command.run("ip", ["link", "add", adapter, "type", "veth", "peer", "name", prefix + peer, "netns", client])
                try await lab.ip(client, "link", "set", prefix + peer, "name", peer)
                try await Command.run("sysctl", ["-qw", "net.ipv6.conf.\(adapter).disable_ipv6=1"], check: false)
            }
            try await lab.ip(client, "link", "add", "br0", "type", "bridge")
            for peer in ["pa", "pb"] {
                try await lab.ip(client, "link", "set", peer, "master", "br0")
            }
            try await lab.ip(client, "addr", "add", "\(clientAddress)/24", "dev", "br0")
            for device in ["pa", "pb", "br0"] {
                try await lab.ip(client, "link", "set", device, "up")
            }
            try await Command.run("ip", ["link", "set", segment.adapterA, "up"])
            try await Command.run("ip", ["link", "set", segment.adapterB, "up"])
            return segment
        } catch {
            lab.destroy()
            throw error
        }
    }

    /// Builds a lab, runs `body`, and destroys the lab whatever happens.
    public static func with<T>(_ body: (SegmentLab) async throws -> T) async throws -> T {
        let segment = try await build()
        defer { segment.destroy() }
        return try await body(segment)
    }

    /// Runs `arguments` inside the client namespace; a non-zero exit is returned, not thrown.
    public func inClient(_ arguments: [String]) async throws -> Command.Result {
        try await lab.exec(client, arguments[0], Array(arguments.dropFirst()), check: false)
    }

    /// Deletes the client namespace, and with it both veth pairs. Safe to call twice.
    public func destroy() { lab.destroy() }
}
