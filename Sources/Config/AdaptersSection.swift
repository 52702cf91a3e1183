import ProxyARPCore
import Yams

/// The `adapters:` list: kernel names (unique, valid) and optional expected addresses.
enum AdaptersSection {
    static let keys = ["name", "address"]

    /// An adapter as read, with where its name and address were written.
    struct Entry {
        var configuration: AdapterConfiguration
        var nameNode: Node
        var addressNode: Node?
    }

    /// Reads the list; entries with problems are reported and left out.
    static func read(_ node: Node, _ diagnostics: inout Diagnostics) -> [Entry] {
        let path = "adapters"
        guard case .sequence(let sequence) = node else {
            diagnostics.report(node, path, "expected a non-empty list of adapters, got \(node.kindDescription)")
            return []
        }
        if sequence.isEmpty {
            diagnostics.report(node, path, "must list at least one adapter")
        }
        var entries: [Entry] = []
        var firstLine: [String: Int] = [:]
        var addressOwner: [IPv4Address: (name: String, line: Int)] = [:]
        for (index, item) in sequence.enumerated() {
            let itemPath = "\(path)[\(index)]"
            if item.isNull {
                diagnostics.report(item, itemPath, "empty adapter entry; \"name\" is required")
                continue
            }
            guard let reader = MappingReader(item, path: itemPath, allowed: keys, diagnostics: &diagnostics) else {
                continue
            }
            guard let nameNode = reader.required("name", diagnostics: &diagnostics),
                let name = ScalarReaders.string(nameNode, childPath(itemPath, "name"), &diagnostics)
            else { continue }
            if let problem = AdapterNameRules.problem(with: name) {
                diagnostics.report(nameNode, childPath(itemPath, "name"), problem)
                continue
            }
            if let line = firstLine[name] {
                diagnostics.report(nameNode, childPath(itemPath, "name"), "duplicate adapter name \"\(name)\" (first at line \(line))")
                continue
            }
            firstLine[name] = nameNode.line

            var expected: IPv4Interface?
            let addressNode = reader["address"]
            if let addressNode {
                let addressPath = childPath(itemPath, "address")
                if let text = ScalarReaders.string(addressNode, addressPath, &diagnostics) {
                    if let interface = IPv4Interface(text), (1...32).contains(interface.subnet.prefixLength) {
                        if let owner = addressOwner[interface.address] {
                            diagnostics.report(
                                addressNode, addressPath,
                                "\(interface.address) is also the address of adapter \(owner.name) (line \(owner.line))")
                        } else {
                            addressOwner[interface.address] = (name, addressNode.line)
                        }
                        expected = interface
                    } else {
                        diagnostics.report(
                            addressNode, addressPath,
                            "\"\(text)\" is not an IPv4 address with a prefix length 1...32 (e.g. 198.18.0.10/24)")
                    }
                }
            }
            entries.append(Entry(
                configuration: AdapterConfiguration(name: AdapterName(name), expectedAddress: expected),
                nameNode: nameNode, addressNode: addressNode))
        }
        return entries
    }
}
