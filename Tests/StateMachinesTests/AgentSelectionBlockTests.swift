import ProxyARPCore
import ProxyARPStateMachines
import ProxyARPTestSupport
import Testing

@Suite("Agent selection in blocks")
struct AgentSelectionBlockTests {
    private func selection(blockPrefixLength: Int) -> AgentSelection {
        var selection = AgentSelection(blockPrefixLength: blockPrefixLength)
        for name: AdapterName in ["eth0", "eth1", "eth2"] { selection.candidateChanged(Fixture.candidate(name)) }
        return selection
    }

    private func agents(_ selection: AgentSelection, _ vips: [IPv4Address]) -> [AdapterName?] {
        vips.map { selection.assignments[$0] }
    }

    @Test("/26 blocks: every block's VIPs share one agent, and the blocks balance over the agents")
    func blocksShareAnAgent() {
        var selection = selection(blockPrefixLength: 26)
        // 198.18.16.0/22 is on no adapter's subnet: only load (and now block) decides.
        let vips = Fixture.vips(from: "198.18.16.0", count: 64 * 12)
        for vip in vips { _ = selection.select(VIPConfiguration(address: vip)) }
        for block in stride(from: 0, to: vips.count, by: 64) {
            #expect(Set(agents(selection, Array(vips[block..<block + 64]))).count == 1, "block \(vips[block])")
        }
        #expect(["eth0", "eth1", "eth2"].map { selection.load(of: $0) } == [256, 256, 256])
    }

    @Test("/32 (the default) keeps plain load balancing: neighbours alternate")
    func singleAddressBlocksAlternate() {
        var selection = selection(blockPrefixLength: 32)
        let vips = Fixture.vips(from: "198.18.16.0", count: 6)
        for vip in vips { _ = selection.select(VIPConfiguration(address: vip)) }
        #expect(Set(agents(selection, Array(vips[0..<3]))).count == 3)
    }

    @Test("the subnet and preference rules still come before the block")
    func subnetAndPreferenceFirst() {
        var selection = selection(blockPrefixLength: 24)
        let inA = IPv4Address("198.18.1.5")!, alsoInA = IPv4Address("198.18.1.6")!
        _ = selection.select(VIPConfiguration(address: inA, preferred: ["eth1"]))
        _ = selection.select(VIPConfiguration(address: alsoInA, preferred: ["eth0"]))
        #expect(selection.assignments[inA] == "eth1")
        #expect(selection.assignments[alsoInA] == "eth0")
    }

    @Test("losing an agent moves its blocks whole, and a block's first VIP picks the least loaded agent")
    func failoverMovesBlocksWhole() {
        var selection = selection(blockPrefixLength: 28)
        let vips = Fixture.vips(from: "198.18.16.0", count: 16 * 6)
        for vip in vips { _ = selection.select(VIPConfiguration(address: vip)) }
        let lost = selection.members["eth0"] ?? []
        #expect(lost.count == 32)
        var gone = Fixture.candidate("eth0")
        gone.eligible = false
        selection.candidateChanged(gone)
        for vip in lost.sorted() { _ = selection.select(VIPConfiguration(address: vip)) }
        for block in stride(from: 0, to: vips.count, by: 16) {
            #expect(Set(agents(selection, Array(vips[block..<block + 16]))).count == 1)
        }
        #expect(selection.load(of: "eth1") == 48 && selection.load(of: "eth2") == 48)
    }

    @Test("a replayed trace with the blockPrefixLength event groups as the daemon did")
    func replayedEventGroups() {
        var replayed = AgentSelection()
        for name: AdapterName in ["eth0", "eth1", "eth2"] { _ = replayed.apply(.candidateChanged(Fixture.candidate(name))) }
        #expect(replayed.apply(.blockPrefixLength(26)) == "none")
        #expect(replayed.apply(.blockPrefixLength(40)) == "invalid(40)")
        for vip in Fixture.vips(from: "198.18.16.0", count: 64) {
            _ = replayed.apply(.select(vip: .v4(vip), preferred: [], preempt: false, excluding: []))
        }
        #expect(Set(replayed.assignments.values).count == 1)
    }
}
