import ProxyARPCore
import Yams

/// An IPv6 entry of the `vips:` list (an `address`, `range` or `cidr` whose text holds a
/// colon): its interval stays inside one /64.
typealias IPv6VIPEntry = VIPEntry<IPv6Address>

/// What only IPv6 entries check: the interval's text, the /64 and /108 limits, and the
/// addresses that can never be VIPs.
extension VIPEntry where Bound == IPv6Address {
    /// The largest IPv6 entry: a `/108` block, 2^20 addresses.
    static var maximumCount: UInt64 { 1 << 20 }
    /// The shortest prefix a `cidr` may have: /108 (up to /128).
    static var shortestPrefix: Int { 108 }

    /// Number of addresses (at most ``maximumCount`` once read).
    var count: UInt64 { last.low - first.low + 1 }

    /// Reads the addresses of an IPv6 entry; problems are reported and give nil.
    static func read(
        keyword: String, text: String, node: Node, index: Int, preferred: [AdapterName], preempt: Bool,
        preferredHosts: [String] = [], _ diagnostics: inout Diagnostics
    ) -> IPv6VIPEntry? {
        let path = "vips[\(index)].\(keyword)"
        guard let (first, last) = interval(keyword: keyword, text: text, node: node, path: path, &diagnostics) else {
            return nil
        }
        if let reason = forbidden(first) {
            diagnostics.report(node, path, "\(first) is \(reason) and cannot be a VIP")
            return nil
        }
        return VIPEntry(
            index: index, keyword: keyword, text: text, node: node, first: first, last: last, preferred: preferred,
            preempt: preempt, preferredHosts: preferredHosts)
    }

    /// Why addresses of the /64 of `address` can never be VIPs, if they cannot.
    static func forbidden(_ address: IPv6Address) -> String? {
        if address.isMulticast { return "multicast (ff00::/8)" }
        if address.isLinkLocal { return "link-local (fe80::/10): a VIP must be reachable beyond one link's scope" }
        if address.high == 0 { return "in ::/64 (unspecified, loopback, IPv4-compatible and IPv4-mapped addresses)" }
        return nil
    }

    private static func interval(
        keyword: String, text: String, node: Node, path: String, _ diagnostics: inout Diagnostics
    ) -> (IPv6Address, IPv6Address)? {
        switch keyword {
        case "address":
            guard let address = IPv6Address(text) else {
                diagnostics.report(node, path, "\"\(text)\" is not an IPv6 address")
                return nil
            }
            return (address, address)
        case "range":
            guard
                let (first, last) = VIPsSection.rangeEnds(
                    text, node: node, path: path, family: "IPv6", example: "2001:db8::10-2001:db8::20",
                    parse: { IPv6Address($0) }, &diagnostics)
            else { return nil }
            guard first.high == last.high else {
                diagnostics.report(
                    node, path, "range \"\(text)\" spans more than one /64 prefix; list one range per prefix")
                return nil
            }
            let count = last.low - first.low
            guard count < maximumCount else {
                diagnostics.report(
                    node, path, "range \"\(text)\" has more than \(maximumCount) addresses, the limit of one IPv6 entry")
                return nil
            }
            return (first, last)
        default:
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, let address = IPv6Address(String(parts[0])), let prefix = Int(parts[1]),
                (0...128).contains(prefix), parts[1].allSatisfy(\.isNumber)
            else {
                diagnostics.report(node, path, "\"\(text)\" is not an IPv6 CIDR block ADDRESS/PREFIX with prefix 0...128")
                return nil
            }
            guard prefix >= shortestPrefix else {
                diagnostics.report(
                    node, path,
                    "\"\(text)\" is a block of 2^\(128 - prefix) addresses, more than the limit of \(maximumCount) (/\(shortestPrefix)) for one IPv6 entry")
                return nil
            }
            let hostBits = UInt64(128 - prefix)
            let mask: UInt64 = hostBits == 0 ? 0 : (1 << hostBits) - 1
            let network = IPv6Address(high: address.high, low: address.low & ~mask)
            guard network == address else {
                diagnostics.report(node, path, "\"\(text)\" has host bits set; did you mean \(network)/\(prefix)?")
                return nil
            }
            return (network, IPv6Address(high: address.high, low: address.low | mask))
        }
    }

    /// One ``VIPConfiguration`` per address, entries in file order.
    static func expand(_ entries: [IPv6VIPEntry]) -> [VIPConfiguration] {
        var vips: [VIPConfiguration] = []
        vips.reserveCapacity(entries.reduce(0) { $0 + Int($1.count) })
        for entry in entries {
            for low in entry.first.low...entry.last.low {
                vips.append(entry.configuration(of: .v6(IPv6Address(high: entry.first.high, low: low))))
            }
        }
        return vips
    }
}
