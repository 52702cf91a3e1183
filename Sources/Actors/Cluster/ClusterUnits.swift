import ProxyARPCore

/// The ownership units of a configuration: one per VIP, or one per selection block when
/// `block_prefix_length` < 32 (100,000 VIPs in /26 blocks are about 1,600 keys). A unit's
/// name is its address or block (`198.18.0.100`, `198.18.0.64/26`); its key is
/// `<key_prefix>units/<name>`.
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

    /// The unit name of `address`: an IPv6 VIP is always a unit of its own.
    public static func unit(of address: IPAddress, blockPrefixLength: Int) -> String {
        guard case .v4(let address) = address else { return address.description }
        return unit(of: address, blockPrefixLength: blockPrefixLength)
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
