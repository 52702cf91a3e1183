import ProxyARPCore
import Yams

/// The `vips:` list: reads each entry into a ``VIPEntry`` (an interval), checking its own
/// fields. Checks across entries live in ``VIPSetRules`` (and, for IPv6, ``VIPEntry/checkOverlaps(_:name:_:)``).
enum VIPsSection {
    static let keys = ["address", "range", "cidr", "preferred", "preempt", "preferred_hosts"]
    private static let addressKeys = ["address", "range", "cidr"]

    /// Reads the list; entries with problems are reported and left out.
    /// IPv6 entries (text with a colon) go to `ipv6`: their interval is 128-bit and stays in
    /// one /64 (``IPv6VIPEntry``); both kinds expand to the same ``VIPConfiguration``.
    static func read(
        _ node: Node, adapters: [AdapterName], ipv6: inout [IPv6VIPEntry], _ diagnostics: inout Diagnostics
    ) -> [IPv4VIPEntry] {
        let path = "vips"
        guard case .sequence(let sequence) = node else {
            diagnostics.report(node, path, "expected a non-empty list of VIPs, got \(node.kindDescription)")
            return []
        }
        if sequence.isEmpty {
            diagnostics.report(node, path, "must list at least one VIP")
        }
        var entries: [IPv4VIPEntry] = []
        entries.reserveCapacity(sequence.count)
        for (index, item) in sequence.enumerated() {
            if let entry = readEntry(item, index: index, adapters: adapters, ipv6: &ipv6, &diagnostics) {
                entries.append(entry)
            }
        }
        return entries
    }

    private static func readEntry(
        _ item: Node, index: Int, adapters: [AdapterName], ipv6: inout [IPv6VIPEntry], _ diagnostics: inout Diagnostics
    ) -> IPv4VIPEntry? {
        let itemPath = "vips[\(index)]"
        guard let reader = MappingReader(item, path: itemPath, allowed: keys, diagnostics: &diagnostics) else {
            return nil
        }
        let given = addressKeys.filter { reader[$0] != nil }
        guard given.count == 1, let keyword = given.first, let valueNode = reader[keyword] else {
            let reason =
                given.isEmpty
                ? "a VIP entry needs exactly one of address, range or cidr; none given"
                : "a VIP entry needs exactly one of address, range or cidr; got \(given.joined(separator: " and "))"
            diagnostics.report(item, itemPath, reason)
            return nil
        }

        // A problem in the options is reported but keeps the entry, so that its addresses
        // still take part in the checks across entries (overlaps, adapter addresses).
        var preferred: [AdapterName] = []
        if let preferredNode = reader["preferred"],
            let names = readPreferred(preferredNode, path: childPath(itemPath, "preferred"), adapters: adapters, &diagnostics)
        {
            preferred = names
        }
        var preempt = false
        if let preemptNode = reader["preempt"],
            let value = ScalarReaders.bool(preemptNode, childPath(itemPath, "preempt"), &diagnostics)
        {
            preempt = value
        }

        var preferredHosts: [String] = []
        if let hostsNode = reader["preferred_hosts"],
            let hosts = readPreferredHosts(hostsNode, path: childPath(itemPath, "preferred_hosts"), &diagnostics)
        {
            preferredHosts = hosts
        }

        let valuePath = childPath(itemPath, keyword)
        guard let text = ScalarReaders.string(valueNode, valuePath, &diagnostics) else { return nil }
        if text.contains(":") {
            if let entry = IPv6VIPEntry.read(
                keyword: keyword, text: text, node: valueNode, index: index, preferred: preferred, preempt: preempt,
                preferredHosts: preferredHosts, &diagnostics)
            {
                ipv6.append(entry)
            }
            return nil
        }
        guard let interval = interval(keyword: keyword, text: text, node: valueNode, path: valuePath, &diagnostics)
        else { return nil }
        return IPv4VIPEntry(
            index: index, keyword: keyword, text: text, node: valueNode,
            first: interval.first, last: interval.last, preferred: preferred, preempt: preempt,
            preferredHosts: preferredHosts)
    }

    /// The addresses `text` stands for, as an inclusive interval.
    ///
    /// A `cidr` block means every address in it, network and broadcast addresses included:
    /// VIPs are /32 host addresses on `lo`, and the block is only a compact way of listing
    /// them, not a subnet on any link. A block with host bits set is refused as a likely typo.
    private static func interval(
        keyword: String, text: String, node: Node, path: String, _ diagnostics: inout Diagnostics
    ) -> (first: UInt32, last: UInt32)? {
        switch keyword {
        case "address":
            guard let address = IPv4Address(text) else {
                diagnostics.report(node, path, "\"\(text)\" is not an IPv4 address")
                return nil
            }
            return (address.rawValue, address.rawValue)
        case "range":
            guard
                let (first, last) = rangeEnds(
                    text, node: node, path: path, family: "IPv4", example: "198.18.0.120-198.18.0.140",
                    parse: { IPv4Address($0) }, &diagnostics)
            else { return nil }
            let count = UInt64(last.rawValue - first.rawValue) + 1
            if count > UInt64(VIPSetRules.maximumVIPCount) {
                diagnostics.report(
                    node, path,
                    "range \"\(text)\" has \(count) addresses, more than the limit of \(VIPSetRules.maximumVIPCount) VIPs")
                return nil
            }
            return (first.rawValue, last.rawValue)
        default:
            guard let block = IPv4Subnet(text) else {
                diagnostics.report(node, path, "\"\(text)\" is not an IPv4 CIDR block ADDRESS/PREFIX with prefix 0...32")
                return nil
            }
            if block.addressCount > UInt64(VIPSetRules.maximumVIPCount) {
                // Refused here, by arithmetic, before anything is expanded.
                diagnostics.report(
                    node, path,
                    "\"\(text)\" is a block of \(block.addressCount) addresses, more than the limit of \(VIPSetRules.maximumVIPCount) VIPs")
                return nil
            }
            if block.description != text {
                diagnostics.report(node, path, "\"\(text)\" has host bits set; did you mean \(block)?")
                return nil
            }
            return (block.network.rawValue, block.lastAddress.rawValue)
        }
    }

    /// The two ends of a `range` written `FIRST-LAST` (spaces around either allowed), each
    /// read by `parse` as a `family` address, the first not above the last. Problems are
    /// reported and give nil. The family's own limits are checked by the caller.
    static func rangeEnds<Address: Comparable>(
        _ text: String, node: Node, path: String, family: String, example: String, parse: (String) -> Address?,
        _ diagnostics: inout Diagnostics
    ) -> (first: Address, last: Address)? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map { String($0).trimmingSpaces() }
        guard parts.count == 2 else {
            diagnostics.report(node, path, "\"\(text)\" is not a range FIRST-LAST (e.g. \(example))")
            return nil
        }
        guard let first = parse(parts[0]) else {
            diagnostics.report(node, path, "\"\(parts[0])\" in range \"\(text)\" is not an \(family) address")
            return nil
        }
        guard let last = parse(parts[1]) else {
            diagnostics.report(node, path, "\"\(parts[1])\" in range \"\(text)\" is not an \(family) address")
            return nil
        }
        guard first <= last else {
            diagnostics.report(node, path, "range \"\(text)\" is reversed: the first address must not be above the last")
            return nil
        }
        return (first, last)
    }

    /// A list of distinct cluster host names.
    private static func readPreferredHosts(_ node: Node, path: String, _ diagnostics: inout Diagnostics) -> [String]? {
        guard case .sequence(let sequence) = node else {
            diagnostics.report(node, path, "expected a list of cluster host names, got \(node.kindDescription)")
            return nil
        }
        var hosts: [String] = []
        for (index, item) in sequence.enumerated() {
            let itemPath = "\(path)[\(index)]"
            guard let name = ScalarReaders.nonEmptyString(item, itemPath, &diagnostics) else { return nil }
            if hosts.contains(name) {
                diagnostics.report(item, itemPath, "\"\(name)\" is listed twice")
                return nil
            }
            hosts.append(name)
        }
        return hosts
    }

    private static func readPreferred(
        _ node: Node, path: String, adapters: [AdapterName], _ diagnostics: inout Diagnostics
    ) -> [AdapterName]? {
        guard case .sequence(let sequence) = node else {
            diagnostics.report(node, path, "expected a list of adapter names, got \(node.kindDescription)")
            return nil
        }
        var names: [AdapterName] = []
        var seenAt: [String: Int] = [:]
        var valid = true
        for (index, item) in sequence.enumerated() {
            let itemPath = "\(path)[\(index)]"
            guard let name = ScalarReaders.string(item, itemPath, &diagnostics) else {
                valid = false
                continue
            }
            if let earlier = seenAt[name] {
                diagnostics.report(item, itemPath, "\"\(name)\" is listed twice (also \(path)[\(earlier)])")
                valid = false
                continue
            }
            seenAt[name] = index
            guard adapters.contains(AdapterName(name)) else {
                let known = adapters.map(\.rawValue).joined(separator: ", ")
                diagnostics.report(item, itemPath, "\"\(name)\" is not a configured adapter (configured: \(known))")
                valid = false
                continue
            }
            names.append(AdapterName(name))
        }
        return valid ? names : nil
    }
}

extension String {
    /// The string without leading and trailing spaces.
    fileprivate func trimmingSpaces() -> String {
        var view = Substring(self)
        while view.first == " " { view.removeFirst() }
        while view.last == " " { view.removeLast() }
        return String(view)
    }
}
