import ProxyARPCore
import Yams

/// Checks across all VIP entries, and the expansion of entries into single VIPs.
///
/// Everything works on intervals: the total is a sum of interval sizes, overlaps are found by
/// sorting intervals by their first address and sweeping once (O(n log n) in entries), and
/// expansion happens only after every check has passed.
enum VIPSetRules {
    /// The most VIPs one daemon accepts.
    static let maximumVIPCount = 1_000_000

    /// Address blocks that can never be VIPs: "this network", loopback, multicast and the
    /// reserved class E block with the limited broadcast address.
    private static let forbidden: [(first: UInt32, last: UInt32, name: String)] = [
        (0x0000_0000, 0x00FF_FFFF, "\"this network\" 0.0.0.0/8"),
        (0x7F00_0000, 0x7FFF_FFFF, "loopback 127.0.0.0/8"),
        (0xE000_0000, 0xEFFF_FFFF, "multicast 224.0.0.0/4"),
        (0xF000_0000, 0xFFFF_FFFF, "reserved 240.0.0.0/4"),
    ]

    /// Reports entries that break a rule. A total above the limit is reported at `vipsNode`,
    /// the `vips:` key.
    static func check(
        _ entries: [IPv4VIPEntry], vipsNode: Node, adapters: [AdaptersSection.Entry], _ diagnostics: inout Diagnostics
    ) {
        let total = entries.reduce(UInt64(0)) { $0 + $1.count }
        if total > UInt64(maximumVIPCount) {
            diagnostics.report(
                vipsNode, "vips", "the entries add up to \(total) VIPs, more than the limit of \(maximumVIPCount)")
        }
        for entry in entries {
            for block in forbidden where entry.first <= block.last && block.first <= entry.last {
                let example = IPv4Address(rawValue: max(entry.first, block.first))
                diagnostics.report(entry.node, entry.path, "\(example) is in \(block.name) and cannot be a VIP")
            }
            for adapter in adapters {
                guard let expected = adapter.configuration.expectedAddress?.address,
                    entry.addresses.contains(expected.rawValue)
                else { continue }
                let place = adapter.addressNode.map { " (line \($0.line))" } ?? ""
                let subject = entry.isSingle ? "the VIP" : "\(entry.text) contains \(expected), which"
                diagnostics.report(
                    entry.node, entry.path,
                    "\(subject) is the configured address of adapter \(adapter.configuration.name)\(place)")
            }
        }
        IPv4VIPEntry.checkOverlaps(entries, name: { IPv4Address(rawValue: $0).description }, &diagnostics)
    }

    /// One ``VIPConfiguration`` per address, entries in file order, addresses ascending within one.
    static func expand(_ entries: [IPv4VIPEntry]) -> [VIPConfiguration] {
        let total = entries.reduce(0) { $0 + Int($1.count) }
        var vips: [VIPConfiguration] = []
        vips.reserveCapacity(total)
        for entry in entries {
            for raw in entry.addresses {
                vips.append(entry.configuration(of: .v4(IPv4Address(rawValue: raw))))
            }
        }
        return vips
    }
}
