import ProxyARPActors
import ProxyARPCore
import Testing

/// Unit names of either family: one per VIP at block_prefix_length 32, blocks of the same
/// size in both families below it.
@Suite struct ClusterUnitsTests {
    @Test func ipv4AndIPv6UnitNames() throws {
        let v4 = IPAddress.v4(IPv4Address(198, 18, 0, 100))
        let v6 = IPAddress.v6(try #require(IPv6Address("2001:db8::1:4d")))
        #expect(ClusterUnits.unit(of: v4, blockPrefixLength: 32) == "198.18.0.100")
        #expect(ClusterUnits.unit(of: v4, blockPrefixLength: 26) == "198.18.0.64/26")
        #expect(ClusterUnits.unit(of: v6, blockPrefixLength: 32) == "2001:db8::1:4d")
        // /26 holds 64 addresses: the IPv6 unit is the aligned /122 (64 addresses).
        #expect(ClusterUnits.unit(of: v6, blockPrefixLength: 26) == "2001:db8::1:40/122")
        #expect(ClusterUnits.unit(of: v6, blockPrefixLength: 24) == "2001:db8::1:0/120")
        #expect(ClusterUnits.unit(of: v6, blockPrefixLength: 0) == "2001:db8::/96")
    }

    @Test func configurationGroupsEachFamilyApart() throws {
        var configuration = DaemonConfiguration(adapters: [], vips: [])
        let v6 = (0..<70).map { IPv6Address(high: 0x2001_0db8_0000_0000, low: UInt64($0)) }
        configuration.vips = (60..<70).map { VIPConfiguration(address: IPv4Address(198, 18, 0, UInt8($0))) }
            + v6.map { VIPConfiguration(address: $0, preferredHosts: $0.low == 65 ? ["beta"] : []) }
        configuration.selection.blockPrefixLength = 26
        let units = ClusterUnits(configuration)
        #expect(units.names == ["198.18.0.0/26", "198.18.0.64/26", "2001:db8::/122", "2001:db8::40/122"])
        #expect(units.vips["2001:db8::40/122"]?.count == 6)
        #expect(units.vips["2001:db8::/122"]?.count == 64)
        #expect(units.preferredHosts["2001:db8::40/122"] == ["beta"])
        configuration.selection.blockPrefixLength = 32
        #expect(ClusterUnits(configuration).names.count == 80)
        #expect(ClusterUnits(configuration).vips["2001:db8::41"]?.first?.preferredHosts == ["beta"])
    }
}
