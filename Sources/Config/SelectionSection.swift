import ProxyARPCore
import Yams

/// The `selection:` mapping: how VIPs are grouped on agents.
enum SelectionSection {
    static let keys = ["block_prefix_length"]

    /// Reads the section; absent keys keep the defaults of ``SelectionConfiguration``.
    static func read(_ node: Node?, _ diagnostics: inout Diagnostics) -> SelectionConfiguration {
        var selection = SelectionConfiguration()
        guard let node,
            let reader = MappingReader(node, path: "selection", allowed: keys, diagnostics: &diagnostics)
        else { return selection }
        if let value = reader["block_prefix_length"],
            let length = ScalarReaders.int(
                value, "selection.block_prefix_length", in: SelectionConfiguration.blockPrefixLengths, &diagnostics)
        {
            selection.blockPrefixLength = length
        }
        return selection
    }
}
