import Glibc
import Logging
import ProxyARPCore

/// The per-adapter sysctls of ARCHITECTURE.md §2, written under
/// `/proc/sys/net/ipv4/conf/<dev>/`: `arp_ignore=1` and `arp_announce=2` (only proxyarpd
/// answers for VIPs), `ignore_routes_with_linkdown=1` (no route through a dead carrier).
enum AdapterSysctls {
    /// The sysctls written, in order.
    static let values: [(key: String, value: String)] = [
        ("arp_ignore", "1"), ("arp_announce", "2"), ("ignore_routes_with_linkdown", "1"),
    ]

    /// Writes ``values`` for `adapter`, in the network namespace at `namespacePath` (the
    /// caller's when nil), logging each.
    static func write(adapter: AdapterName, namespacePath: String?, logger: Logger) throws(NetlinkError) {
        let name = adapter.rawValue
        guard !name.isEmpty, name.utf8.count < Int(IFNAMSIZ), name != ".", name != "..", !name.contains("/") else {
            throw NetlinkError(operation: "prepare \(name): not an interface name", code: ENODEV)
        }
        for (key, value) in values {
            let path = "/proc/sys/net/ipv4/conf/\(name)/\(key)"
            try NetworkNamespace.run(in: namespacePath) { () throws(NetlinkError) in
                try writeFile(path: path, value: value)
            }
            logger.info("set \(key)=\(value) on \(name)", metadata: ["sysctl": "\(path)"])
        }
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
