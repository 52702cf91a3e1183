import Glibc
import Logging
import ProxyARPCore

/// The per-adapter sysctls of ARCHITECTURE.md §2, written under
/// `/proc/sys/net/<family>/conf/<dev>/`: `arp_ignore=1` and `arp_announce=2` (only
/// proxyarpd answers for VIPs), `ignore_routes_with_linkdown=1` for IPv4 and IPv6 (no route
/// through a dead carrier). Keys are `family/name`. A host without IPv6 (no
/// `net/ipv6/conf/<dev>`) skips the IPv6 one.
enum AdapterSysctls {
    /// The sysctls written, in order.
    static let values: [(key: String, value: String)] = [
        ("ipv4/arp_ignore", "1"), ("ipv4/arp_announce", "2"), ("ipv4/ignore_routes_with_linkdown", "1"),
        ("ipv6/ignore_routes_with_linkdown", "1"),
    ]

    /// `/proc/sys/net/ipv4/conf/eth0/arp_ignore` for the key `ipv4/arp_ignore`.
    static func path(of key: String, adapter name: String) -> String {
        let parts = key.split(separator: "/", maxSplits: 1)
        return "/proc/sys/net/\(parts[0])/conf/\(name)/\(parts.count > 1 ? parts[1] : "")"
    }

    /// True for a sysctl that may be missing (IPv6 disabled on the host or the adapter).
    private static func isOptional(_ key: String) -> Bool { key.hasPrefix("ipv6/") }

    /// Writes ``values`` for `adapter`, in the network namespace at `namespacePath` (the
    /// caller's when nil), logging each. Returns the values found before, for ``restore``.
    @discardableResult
    static func write(adapter: AdapterName, namespacePath: String?, logger: Logger) throws(NetlinkError) -> [(key: String, value: String)] {
        let name = adapter.rawValue
        guard !name.isEmpty, name.utf8.count < Int(IFNAMSIZ), name != ".", name != "..", !name.contains("/") else {
            throw NetlinkError(operation: "prepare \(name): not an interface name", code: ENODEV)
        }
        var found: [(key: String, value: String)] = []
        for (key, value) in values {
            let path = Self.path(of: key, adapter: name)
            let before: String
            do {
                before = try NetworkNamespace.run(in: namespacePath) { () throws(NetlinkError) -> String in
                    let before = try readFile(path: path)
                    try writeFile(path: path, value: value)
                    return before
                }
            } catch where isOptional(key) && error.code == ENODEV {
                logger.debug("no \(path): IPv6 is off there", metadata: ["sysctl": "\(path)"])
                continue
            }
            found.append((key, before))
            logger.info("set \(key)=\(value) on \(name)", metadata: ["sysctl": "\(path)", "was": "\(before)"])
        }
        return found
    }

    /// Writes back `values` (as returned by ``write``) for `adapter`. An adapter gone is
    /// fine (its sysctls went with it). Returns how many were written.
    @discardableResult
    static func restore(
        _ values: [(key: String, value: String)], adapter: AdapterName, namespacePath: String?, logger: Logger
    ) throws(NetlinkError) -> Int {
        var restored = 0
        for (key, value) in values {
            let path = Self.path(of: key, adapter: adapter.rawValue)
            do {
                try NetworkNamespace.run(in: namespacePath) { () throws(NetlinkError) in try writeFile(path: path, value: value) }
            } catch where error.code == ENODEV {
                if isOptional(key) { continue }
                return restored
            }
            restored += 1
            logger.info("restored \(key)=\(value) on \(adapter.rawValue)", metadata: ["sysctl": "\(path)"])
        }
        return restored
    }

    private static func readFile(path: String) throws(NetlinkError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw NetlinkError(operation: "open \(path)", code: errno == ENOENT ? ENODEV : errno) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard count >= 0 else { throw NetlinkError(operation: "read \(path)", code: errno) }
        return String(decoding: buffer[..<count].filter { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: " ") }, as: UTF8.self)
    }

    private static func writeFile(path: String, value: String) throws(NetlinkError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        // No directory for the adapter under conf/: there is no such device.
        guard fd >= 0 else { throw NetlinkError(operation: "open \(path)", code: errno == ENOENT ? ENODEV : errno) }
        defer { close(fd) }
        let bytes = Array("\(value)\n".utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw NetlinkError(operation: "write \(path)", code: written < 0 ? errno : EIO) }
    }
}
