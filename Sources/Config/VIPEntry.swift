import ProxyARPCore
import Yams

/// One entry of the `vips:` list as written: an inclusive interval of addresses
/// (one address, a range or a CIDR block) with the options every address in it shares.
///
/// Entries stay intervals until every check has passed, so that a huge block is refused by
/// arithmetic instead of by expanding it, and overlaps are found by sorting intervals.
struct VIPEntry {
    /// Position of the entry in the `vips:` list.
    var index: Int
    /// The key that gave the addresses: `address`, `range` or `cidr`.
    var keyword: String
    /// The text as written, for messages.
    var text: String
    /// The node holding the addresses, for positions.
    var node: Node
    /// First address, inclusive.
    var first: UInt32
    /// Last address, inclusive (`first <= last`).
    var last: UInt32
    /// Preferred adapters, best first.
    var preferred: [AdapterName]
    /// Move to a better agent when one appears.
    var preempt: Bool
    /// Cluster mode: hosts that should own these VIPs, best first.
    var preferredHosts: [String] = []

    /// `vips[3].range`.
    var path: String { "vips[\(index)].\(keyword)" }

    /// The number of addresses in the entry (up to 2^32, hence 64 bits).
    var count: UInt64 { UInt64(last - first) + 1 }

    /// True when the entry is a single address.
    var isSingle: Bool { first == last }

    /// How the entry is named in messages about another entry: `198.18.0.100 (vips[0].address, line 12)`.
    var reference: String { "\(text) (\(path), line \(node.line))" }

    /// The addresses of the entry, in ascending order.
    var addresses: ClosedRange<UInt32> { first...last }
}
