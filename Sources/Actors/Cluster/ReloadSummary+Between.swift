import ProxyARPCore

extension ReloadSummary {
    /// What a reload from `old` to `new` VIPs adds, removes and changes (by address), as the
    /// engine counts it. Cluster mode reports it for the whole pool.
    public static func between(_ old: [VIPConfiguration], _ new: [VIPConfiguration]) -> ReloadSummary {
        let before = Dictionary(old.map { ($0.address, $0) }, uniquingKeysWith: { first, _ in first })
        let after = Dictionary(new.map { ($0.address, $0) }, uniquingKeysWith: { first, _ in first })
        return ReloadSummary(
            added: after.keys.count { before[$0] == nil },
            removed: before.keys.count { after[$0] == nil },
            changed: after.count { address, config in before[address].map { $0 != config } ?? false })
    }
}
