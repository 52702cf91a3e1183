import ProxyARPConfig
import ProxyARPCore
import Testing

/// Lines 1-5: two adapters and the `vips:` key; cases add entries from line 6 on.
private let ipv6Head = """
    adapters:
      - name: eth0
        address: 198.18.0.10/24
      - name: eth1
    vips:
    """

private func ipv6Broken(_ name: String, _ entries: String, line: Int, _ phrase: String) -> BrokenCase {
    BrokenCase(name: name, yaml: ipv6Head + "\n" + entries + "\n", line: line, phrase: phrase)
}

let brokenIPv6Cases: [BrokenCase] = [
    ipv6Broken("bad IPv6 address", "  - address: 2001:db8::g", line: 6, "\"2001:db8::g\" is not an IPv6 address"),
    ipv6Broken("link-local VIP", "  - address: fe80::10", line: 6, "fe80::10 is link-local"),
    ipv6Broken("multicast VIP", "  - address: ff02::1:ff00:2", line: 6, "is multicast"),
    ipv6Broken("loopback VIP", "  - address: ::1", line: 6, "in ::/64"),
    ipv6Broken("IPv4-mapped VIP", "  - address: ::ffff:198.18.0.1", line: 6, "in ::/64"),
    ipv6Broken("range across prefixes", "  - range: 2001:db8:0:1::ff-2001:db8:0:2::1", line: 6, "spans more than one /64 prefix"),
    ipv6Broken("reversed IPv6 range", "  - range: 2001:db8::20-2001:db8::10", line: 6, "is reversed"),
    ipv6Broken("IPv6 range without a dash", "  - range: 2001:db8::10", line: 6, "is not a range FIRST-LAST (e.g. 2001:db8::10-2001:db8::20)"),
    ipv6Broken("IPv6 range with a bad end", "  - range: 2001:db8::10 - 198.18.0.1", line: 6, "\"198.18.0.1\" in range \"2001:db8::10 - 198.18.0.1\" is not an IPv6 address"),
    // The same rule as for IPv4 entries (it was not checked for IPv6 ones).
    ipv6Broken("IPv6 preferred_hosts without cluster", "  - address: 2001:db8::10\n    preferred_hosts: [a]", line: 6, "preferred_hosts needs a \"cluster:\" section"),
    ipv6Broken("huge IPv6 range", "  - range: 2001:db8::-2001:db8::10:0", line: 6, "more than 1048576 addresses"),
    ipv6Broken("IPv6 CIDR too large", "  - cidr: 2001:db8::/64", line: 6, "more than the limit of 1048576 (/108)"),
    ipv6Broken("IPv6 CIDR with host bits", "  - cidr: 2001:db8::5/126", line: 6, "host bits set; did you mean 2001:db8::4/126?"),
    ipv6Broken("IPv6 CIDR prefix 129", "  - cidr: 2001:db8::/129", line: 6, "is not an IPv6 CIDR block"),
    ipv6Broken("duplicate IPv6 VIP", "  - address: 2001:db8::10\n  - address: 2001:DB8::0010", line: 7, "duplicate VIP 2001:DB8::0010, already listed at 2001:db8::10 (vips[0].address, line 6)"),
    ipv6Broken("overlapping IPv6 blocks", "  - cidr: 2001:db8::/124\n  - range: 2001:db8::f-2001:db8::20", line: 7, "overlaps 2001:db8::/124 (vips[0].cidr, line 6): both contain 2001:db8::f"),
]

@Suite struct IPv6VIPConfigurationTests {
    @Test(arguments: brokenIPv6Cases)
    func reportsLineAndReason(_ broken: BrokenCase) {
        let errors = loadErrors(broken.yaml)
        #expect(errors.count == 1, "\(errors)")
        #expect(errors.first?.line == broken.line, "\(errors)")
        #expect(errors.first?.reason.contains(broken.phrase) == true, "\(errors)")
    }

    @Test("A mixed file gives one list: the IPv4 VIPs, then the IPv6 VIPs, each in file order")
    func mixed() throws {
        let yaml = ipv6Head + """

              - address: 198.18.0.100
              - address: 2001:db8::10
                preferred: [eth1]
                preempt: true
              - cidr: 2001:db8:0:1::/126
              - range: 2001:db8::ff-2001:db8::101
              - address: 198.18.0.101
            """
        let configuration = try ConfigurationLoader.load(yaml: yaml, fileName: "test.yaml")
        #expect(configuration.vips.filter { $0.address.family == .ipv4 }.map(\.address.description) == ["198.18.0.100", "198.18.0.101"])
        #expect(configuration.vips.count == 10)
        #expect(configuration.ipv6VIPs.map(\.address.description) == [
            "2001:db8::10", "2001:db8:0:1::", "2001:db8:0:1::1", "2001:db8:0:1::2", "2001:db8:0:1::3",
            "2001:db8::ff", "2001:db8::100", "2001:db8::101",
        ])
        #expect(configuration.ipv6VIPs[0].preferred == [AdapterName("eth1")])
        #expect(configuration.ipv6VIPs[0].preempt)
        #expect(!configuration.ipv6VIPs[1].preempt)
        // `proxyarpd check` counts both families.
        #expect(configuration.summary.contains("10 VIPs (8 IPv6)"), "\(configuration.summary)")
    }

    @Test("A /108 block, the largest allowed, expands to 2^20 VIPs")
    func largestBlock() throws {
        let configuration = try ConfigurationLoader.load(yaml: ipv6Head + "\n  - cidr: 2001:db8::/108\n", fileName: "test.yaml")
        #expect(configuration.ipv6VIPs.count == 1 << 20)
        #expect(configuration.ipv6VIPs.last?.address.description == "2001:db8::f:ffff")
    }
}
