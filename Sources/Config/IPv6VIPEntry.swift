import ProxyARPCore
import Yams

/// One IPv6 entry of the `vips:` list (an `address`, `range` or `cidr` whose text holds a
/// colon): an inclusive interval inside one /64, with the options every address shares.
struct IPv6VIPEntry {
    /// The largest IPv6 entry: a `/108` block, 2^20 addresses.
    static let maximumCount: UInt64 = 1 << 20
    /// The longest prefix a `cidr` may have... and the shortest: /108 to /128.
    static let shortestPrefix = 108

    /// Position of the entry in the `vips:` list.
    var index: Int
    /// `address`, `range` or `cidr`.
    var keyword: String
    /// The text as written.
    var text: String
    /// The node holding the addresses, for positions.
    var node: Node
    /// First address, inclusive.
    var first: IPv6Address
    /// Last address, inclusive, in the same /64 as `first`.
    var last: IPv6Address
    /// Preferred adapters, best first.
    var preferred: [AdapterName]
    /// Move to a better agent when one appears.
    var preempt: Bool
    /// Cluster mode: hosts that should own the VIP, best first.
    var preferredHosts: [String] = []

    /// `vips[3].cidr`.
    var path: String { "vips[\(index)].\(keyword)" }
    /// Number of addresses (at most ``maximumCount`` once read).
    var count: UInt64 { last.low - first.low + 1 }
    /// How the entry is named in messages about another entry.
    var reference: String { "\(text) (\(path), line \(node.line))" }

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
        return IPv6VIPEntry(
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
            let parts = text.split(separator: "-", omittingEmptySubsequences: false)
                .map { String($0.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }
            guard parts.count == 2 else {
                diagnostics.report(node, path, "\"\(text)\" is not a range FIRST-LAST (e.g. 2001:db8::10-2001:db8::20)")
                return nil
            }
            guard let first = IPv6Address(parts[0]) else {
                diagnostics.report(node, path, "\"\(parts[0])\" in range \"\(text)\" is not an IPv6 address")
                return nil
            }
            guard let last = IPv6Address(parts[1]) else {
                diagnostics.report(node, path, "\"\(parts[1])\" in range \"\(text)\" is not an IPv6 address")
                return nil
            }
            guard first <= last else {
                diagnostics.report(node, path, "range \"\(text)\" is reversed: the first address must not be above the last")
                return nil
            }
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

    /// Reports duplicates and overlaps among IPv6 entries (at the later entry, naming both).
    static func checkOverlaps(_ entries: [IPv6VIPEntry], _ diagnostics: inout Diagnostics) {
        guard entries.count > 1 else { return }
        let order = entries.indices.sorted { (entries[$0].first, entries[$0].index) < (entries[$1].first, entries[$1].index) }
        var reach = entries[order[0]]
        for position in order.dropFirst() {
            let entry = entries[position]
            if entry.first <= reach.last {
                let (earlier, later) = reach.index < entry.index ? (reach, entry) : (entry, reach)
                let reason =
                    earlier.first == earlier.last && later.first == later.last
                    ? "duplicate VIP \(later.text), already listed at \(earlier.reference)"
                    : "\(later.text) overlaps \(earlier.reference): both contain \(entry.first)"
                diagnostics.report(later.node, later.path, reason)
            }
            if entry.last > reach.last { reach = entry }
        }
    }

    /// One ``VIPConfiguration`` per address, entries in file order.
    static func expand(_ entries: [IPv6VIPEntry]) -> [VIPConfiguration] {
        var vips: [VIPConfiguration] = []
        vips.reserveCapacity(entries.reduce(0) { $0 + Int($1.count) })
        for entry in entries {
            for low in entry.first.low...entry.last.low {
                vips.append(
                    VIPConfiguration(
                        address: IPv6Address(high: entry.first.high, low: low), preferred: entry.preferred,
                        preempt: entry.preempt, preferredHosts: entry.preferredHosts))
            }
        }
        return vips
    }
}
