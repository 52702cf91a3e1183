import ProxyARPCore

/// The ownership units of a configuration: one per VIP, or one per selection block when
/// `block_prefix_length` < 32 (100,000 VIPs in /26 blocks are about 1,600 keys). A unit's
/// name is its address or block (`198.18.0.100`, `198.18.0.64/26`); its key is
/// `<key_prefix>units/<name>`.
///
/// IPv6 VIPs are grouped in blocks of the same *size*: with `block_prefix_length` b < 32 an
/// IPv6 unit is the aligned block of 2^(32 − b) addresses, prefix length 96 + b
/// (`2001:db8::40/122` for b = 26), so a pool costs as many keys per address in either
/// family; with b = 32, one unit per IPv6 VIP (`2001:db8::100`). The name is the
/// address's RFC 5952 text. A block holds only one family, so a unit's VIPs are all IPv4
/// or all IPv6. Inside the owning host each VIP still selects its NIC as without cluster
/// mode.
public struct ClusterUnits: Sendable, Equatable {
    /// The VIPs of each unit, by unit name.
    public private(set) var vips: [String: [VIPConfiguration]] = [:]
    /// The preferred hosts of each unit (the first VIP's that lists any).
    public private(set) var preferredHosts: [String: [String]] = [:]

    /// Groups `configuration`'s VIPs into units.
    public init(_ configuration: DaemonConfiguration) {
        let prefix = configuration.selection.blockPrefixLength
        for vip in configuration.vips {
            let name = Self.unit(of: vip.address, blockPrefixLength: prefix)
            vips[name, default: []].append(vip)
            if preferredHosts[name] == nil, !vip.preferredHosts.isEmpty { preferredHosts[name] = vip.preferredHosts }
        }
    }

    /// The unit name of `address` (either family).
    public static func unit(of address: IPAddress, blockPrefixLength: Int) -> String {
        switch address {
        case .v4(let address): unit(of: address, blockPrefixLength: blockPrefixLength)
        case .v6(let address): unit(of: address, blockPrefixLength: blockPrefixLength)
        }
    }

    /// The unit name of the IPv6 address `address`: its block of 2^(32 − `blockPrefixLength`)
    /// addresses (prefix length 96 + `blockPrefixLength`), or the address alone at 32.
    public static func unit(of address: IPv6Address, blockPrefixLength: Int) -> String {
        guard blockPrefixLength < 32 else { return address.description }
        let hostBits = 32 - max(0, blockPrefixLength)
        let mask: UInt64 = ~UInt64(0) << UInt64(hostBits)
        return "\(IPv6Address(high: address.high, low: address.low & mask))/\(96 + max(0, blockPrefixLength))"
    }

    /// The unit name of the IPv4 address `address`.
    public static func unit(of address: IPv4Address, blockPrefixLength: Int) -> String {
        guard blockPrefixLength < 32 else { return address.description }
        let mask: UInt32 = blockPrefixLength == 0 ? 0 : ~UInt32(0) << (32 - blockPrefixLength)
        return "\(IPv4Address(rawValue: address.rawValue & mask))/\(blockPrefixLength)"
    }

    /// The unit names, sorted.
    public var names: [String] { vips.keys.sorted() }
}

/// The keys cluster mode writes under its prefix.
public struct ClusterKeys: Sendable, Equatable {
    /// The configured prefix, ending in "/".
    public let prefix: String

    /// Keys under `prefix`.
    public init(prefix: String) { self.prefix = prefix }

    /// Where unit keys live.
    public var unitsPrefix: String { prefix + "units/" }
    /// Where host membership keys live.
    public var hostsPrefix: String { prefix + "hosts/" }
    /// The key of `unit`.
    public func unitKey(_ unit: String) -> String { unitsPrefix + unit }
    /// The membership key of `host`.
    public func hostKey(_ host: String) -> String { hostsPrefix + host }

    /// What a key under the prefix is: a unit, a host, or neither (written by hand: ignored).
    public enum Kind: Equatable {
        /// A unit key, with the unit's name.
        case unit(String)
        /// A membership key, with the host's name.
        case host(String)
        /// Not ours.
        case foreign
    }

    /// Classifies `key`.
    public func kind(of key: String) -> Kind {
        if key.hasPrefix(unitsPrefix) {
            let name = String(key.dropFirst(unitsPrefix.count))
            return name.isEmpty ? .foreign : .unit(name)
        }
        if key.hasPrefix(hostsPrefix) {
            let name = String(key.dropFirst(hostsPrefix.count))
            return name.isEmpty ? .foreign : .host(name)
        }
        return .foreign
    }
}
