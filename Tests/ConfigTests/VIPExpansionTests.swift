import ProxyARPConfig
import ProxyARPCore
import Testing

@Suite struct VIPExpansionTests {
    private func vips(_ entries: String) throws -> [VIPConfiguration] {
        try ConfigurationLoader.load(yaml: """
            adapters:
              - name: eth0
              - name: eth1
            vips:
            \(entries)
            """, fileName: "test.yaml").vips
    }

    @Test func rangeExpandsInclusivelyAcrossOctets() throws {
        let expanded = try vips("""
              - range: 198.18.0.250-198.18.1.5
                preferred: [eth1]
                preempt: true
            """)
        #expect(expanded.count == 12)
        #expect(expanded.first == VIPConfiguration(address: ip("198.18.0.250"), preferred: ["eth1"], preempt: true))
        #expect(expanded.last == VIPConfiguration(address: ip("198.18.1.5"), preferred: ["eth1"], preempt: true))
        #expect(expanded.map { $0.address.ipv4!.rawValue } == Array(ip("198.18.0.250").rawValue...ip("198.18.1.5").rawValue))
    }

    @Test func singleAddressRange() throws {
        #expect(try vips("  - range: 192.0.2.7-192.0.2.7").map(\.address.ipv4) == [ip("192.0.2.7")])
    }

    /// A block means every address in it, network and broadcast included.
    @Test(arguments: [(32, 1), (31, 2), (30, 4), (28, 16), (24, 256), (16, 65_536)])
    func cidrExpandsToEveryAddress(prefix: Int, count: Int) throws {
        let expanded = try vips("  - cidr: 198.18.0.0/\(prefix)")
        #expect(expanded.count == count)
        #expect(expanded.first?.address.ipv4 == ip("198.18.0.0"))
        #expect(expanded.last?.address.ipv4 == IPv4Address(rawValue: ip("198.18.0.0").rawValue + UInt32(count - 1)))
    }

    @Test func entriesKeepFileOrder() throws {
        let expanded = try vips("""
              - address: 198.18.9.9
              - cidr: 192.0.2.0/31
              - address: 198.18.0.1
            """)
        #expect(expanded.map(\.address.ipv4) == [ip("198.18.9.9"), ip("192.0.2.0"), ip("192.0.2.1"), ip("198.18.0.1")])
    }

    @Test func adjacentBlocksDoNotOverlap() throws {
        let expanded = try vips("""
              - cidr: 198.18.0.128/25
              - cidr: 198.18.0.0/25
              - range: 198.18.1.0-198.18.1.9
              - address: 198.18.1.10
            """)
        #expect(expanded.count == 267)
        #expect(Set(expanded.map(\.address)).count == 267)
    }

    /// An overlap hidden behind a long interval: B and C both start after A's start and
    /// end before A's end, and C does not touch B. Both must be reported against A.
    @Test func overlapsInsideALongBlockAreAllFound() {
        let errors = loadErrors("""
            adapters:
              - name: eth0
            vips:
              - address: 198.18.0.10
              - range: 198.18.0.200-198.18.0.210
              - cidr: 198.18.0.0/24
              - address: 198.18.1.1
            """)
        #expect(errors.map(\.line) == [6, 6])
        #expect(errors.allSatisfy { $0.path == "vips[2].cidr" })
        #expect(errors.contains { $0.reason.contains("(vips[0].address, line 4): both contain 198.18.0.10") })
        #expect(errors.contains { $0.reason.contains("(vips[1].range, line 5): both contain 198.18.0.200") })
    }

    @Test func overlapIsReportedOnTheLaterEntryEvenWhenItSortsFirst() {
        let errors = loadErrors("""
            adapters:
              - name: eth0
            vips:
              - range: 198.18.0.50-198.18.0.60
              - range: 198.18.0.40-198.18.0.50
            """)
        #expect(errors.count == 1)
        #expect(errors.first?.line == 5)
        #expect(errors.first?.reason == "198.18.0.40-198.18.0.50 overlaps 198.18.0.50-198.18.0.60 (vips[0].range, line 4): both contain 198.18.0.50")
    }

    @Test func hundredThousandVIPsLoad() throws {
        let base = ip("198.18.0.0").rawValue
        var yaml = "adapters:\n  - name: eth0\n  - name: eth1\nvips:\n"
        yaml.reserveCapacity(100_000 * 30)
        for offset in 0..<UInt32(100_000) {
            yaml += "  - address: \(IPv4Address(rawValue: base + offset))\n"
        }
        let configuration = try ConfigurationLoader.load(yaml: yaml, fileName: "big.yaml")
        #expect(configuration.vips.count == 100_000)
        #expect(configuration.vips.last?.address.ipv4 == IPv4Address(rawValue: base + 99_999))
    }

    @Test func duplicateAmongHundredThousandIsFound() {
        let base = ip("198.18.0.0").rawValue
        var yaml = "adapters:\n  - name: eth0\nvips:\n"
        for offset in 0..<UInt32(100_000) {
            yaml += "  - address: \(IPv4Address(rawValue: base + offset))\n"
        }
        yaml += "  - address: 198.18.0.7\n"
        let errors = loadErrors(yaml)
        #expect(errors.count == 1)
        #expect(errors.first?.line == 100_004)
        #expect(errors.first?.reason.contains("line 11") == true)
    }

    @Test func hugeRangesAreRefusedWithoutExpansion() {
        // 2^32 addresses: refused by arithmetic on the intervals; expanding would take gigabytes.
        let errors = loadErrors("""
            adapters:
              - name: eth0
            vips:
              - range: 1.0.0.0-126.255.255.255
              - range: 128.0.0.0-223.255.255.255
            """)
        #expect(errors.map(\.line) == [4, 5])
        #expect(errors.allSatisfy { $0.reason.contains("more than the limit of 1000000") })
    }

    @Test func totalAboveLimitIsReportedAtTheVIPsKey() {
        let errors = loadErrors("""
            adapters:
              - name: eth0
            # 524,288 + 524,288 addresses: each entry is allowed, together they are too many.
            vips:
              - range: 198.18.0.0-198.25.255.255
              - range: 198.26.0.0-198.33.255.255
            """)
        #expect(errors.count == 1)
        #expect(errors.first?.line == 4)
        #expect(errors.first?.reason == "the entries add up to 1048576 VIPs, more than the limit of 1000000")
    }
}
