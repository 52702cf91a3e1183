import ProxyARPCore
import Yams

/// One entry of the `vips:` list as written: an inclusive interval of addresses (one
/// address, a range or a CIDR block) with the options every address in it shares.
///
/// `Bound` is how the entry's family writes the interval's ends: `UInt32` for IPv4
/// (``IPv4VIPEntry``), ``IPv6Address`` for IPv6 (``IPv6VIPEntry``, whose intervals stay
/// inside one /64). Both expand to the same ``VIPConfiguration``.
///
/// Entries stay intervals until every check has passed, so that a huge block is refused by
/// arithmetic instead of by expanding it, and overlaps are found by sorting intervals.
struct VIPEntry<Bound: Comparable> {
    /// Position of the entry in the `vips:` list.
    var index: Int
    /// The key that gave the addresses: `address`, `range` or `cidr`.
    var keyword: String
    /// The text as written, for messages.
    var text: String
    /// The node holding the addresses, for positions.
    var node: Node
    /// First address, inclusive.
    var first: Bound
    /// Last address, inclusive (`first <= last`).
    var last: Bound
    /// Preferred adapters, best first.
    var preferred: [AdapterName]
    /// Move to a better agent when one appears.
    var preempt: Bool
    /// Cluster mode: hosts that should own these VIPs, best first.
    var preferredHosts: [String] = []

    /// `vips[3].range`.
    var path: String { "vips[\(index)].\(keyword)" }

    /// True when the entry is a single address.
    var isSingle: Bool { first == last }

    /// How the entry is named in messages about another entry: `198.18.0.100 (vips[0].address, line 12)`.
    var reference: String { "\(text) (\(path), line \(node.line))" }

    /// The configuration of `address`, one of the entry's, with the entry's options.
    func configuration(of address: IPAddress) -> VIPConfiguration {
        VIPConfiguration(address: address, preferred: preferred, preempt: preempt, preferredHosts: preferredHosts)
    }

    /// Reports duplicate VIPs and overlapping ranges/blocks among `entries` (one family),
    /// naming both entries' lines; `name` writes an address for the message. The error goes
    /// to the entry written later in the file. One sort and one sweep: O(n log n) in entries.
    static func checkOverlaps(_ entries: [VIPEntry], name: (Bound) -> String, _ diagnostics: inout Diagnostics) {
        guard entries.count > 1 else { return }
        let order = entries.indices.sorted {
            (entries[$0].first, entries[$0].index) < (entries[$1].first, entries[$1].index)
        }
        // The entry reaching furthest among those already swept.
        var reach = entries[order[0]]
        for position in order.dropFirst() {
            let entry = entries[position]
            if entry.first <= reach.last {
                let (earlier, later) = reach.index < entry.index ? (reach, entry) : (entry, reach)
                let reason =
                    earlier.isSingle && later.isSingle
                    ? "duplicate VIP \(later.text), already listed at \(earlier.reference)"
                    : "\(later.text) overlaps \(earlier.reference): both contain \(name(entry.first))"
                diagnostics.report(later.node, later.path, reason)
            }
            if entry.last > reach.last { reach = entry }
        }
    }
}

/// An IPv4 entry: its ends as 32-bit addresses.
typealias IPv4VIPEntry = VIPEntry<UInt32>

extension VIPEntry where Bound == UInt32 {
    /// The number of addresses in the entry (up to 2^32, hence 64 bits).
    var count: UInt64 { UInt64(last - first) + 1 }

    /// The addresses of the entry, in ascending order.
    var addresses: ClosedRange<UInt32> { first...last }
}
