import ProxyARPCore
import Testing

@Suite("IPv4 blocks and exact covers")
struct IPv4BlockTests {
    private func address(_ text: String) -> IPv4Address { IPv4Address(text)! }

    @Test("block(containing:) masks to the aligned block")
    func blockOfAddress() {
        #expect(IPv4Subnet.block(containing: address("198.19.0.77"), prefixLength: 26).description == "198.19.0.64/26")
        #expect(IPv4Subnet.block(containing: address("198.19.0.77"), prefixLength: 32).description == "198.19.0.77/32")
    }

    @Test("a full aligned block is one subnet; a run that starts off alignment is split")
    func runsAreSplitIntoAlignedBlocks() {
        let full = (0..<64).map { address("198.19.0.64").advanced(by: $0)! }
        #expect(IPv4Subnet.exactCover(of: full).map(\.description) == ["198.19.0.64/26"])
        let fromOne = (1..<64).map { address("198.19.0.0").advanced(by: $0)! }
        #expect(IPv4Subnet.exactCover(of: fromOne).map(\.description) == [
            "198.19.0.1/32", "198.19.0.2/31", "198.19.0.4/30", "198.19.0.8/29", "198.19.0.16/28", "198.19.0.32/27",
        ])
    }

    @Test("gaps, duplicates and unsorted input; a single address is a /32; empty is empty")
    func gapsAndDuplicates() {
        let input = ["198.19.0.9", "198.19.0.3", "198.19.0.2", "198.19.0.3", "198.19.0.8", "198.19.0.5"].map(address)
        #expect(IPv4Subnet.exactCover(of: input).map(\.description) == ["198.19.0.2/31", "198.19.0.5/32", "198.19.0.8/31"])
        #expect(IPv4Subnet.exactCover(of: [address("192.0.2.1")]).map(\.description) == ["192.0.2.1/32"])
        #expect(IPv4Subnet.exactCover(of: [IPv4Address]()).isEmpty)
    }

    @Test("random sets: the cover holds exactly the input, and no two of its subnets could merge")
    func randomSetsAreCoveredExactly() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let base = address("198.18.0.0").rawValue + UInt32.random(in: 0..<1024, using: &generator)
            let members = Set((0..<Int.random(in: 1...300, using: &generator)).map { _ in
                IPv4Address(rawValue: base + UInt32.random(in: 0..<512, using: &generator))
            })
            let cover = IPv4Subnet.exactCover(of: members)
            var covered = Set<IPv4Address>()
            for subnet in cover {
                for offset in 0..<UInt32(subnet.addressCount) { covered.insert(subnet.network.advanced(by: offset)!) }
            }
            #expect(covered == members)
            #expect(cover.reduce(0) { $0 + $1.addressCount } == UInt64(members.count))
            // Minimal: two neighbouring halves of one parent never both appear.
            let set = Set(cover)
            for subnet in cover where subnet.prefixLength > 0 {
                let parent = IPv4Subnet(address: subnet.network, prefixLength: subnet.prefixLength - 1)!
                let sibling = IPv4Subnet(address: IPv4Address(rawValue: subnet.network.rawValue ^ (1 << UInt32(32 - subnet.prefixLength))), prefixLength: subnet.prefixLength)!
                #expect(!(set.contains(sibling) && parent.contains(sibling.network)), "\(subnet) and \(sibling) should be \(parent)")
            }
        }
    }
}
