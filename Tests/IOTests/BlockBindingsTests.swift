import ProxyARPCore
import ProxyARPIO
import Testing

@Suite("Block bindings (what the kernel should hold)")
struct BlockBindingsTests {
    private let first = IPv4Address("198.19.0.0")!

    private func vip(_ offset: UInt32) -> IPv4Address { first.advanced(by: offset)! }

    @Test("a full /26 on one table is one rule; moving one VIP splits the cover exactly")
    func rulesFollowTheBlock() {
        var bindings = BlockBindings(prefixLength: 26)
        for offset in 0..<64 { bindings.bind(vip(UInt32(offset)), to: 20002) }
        #expect(bindings.rules(inBlockOf: vip(5)).map(\.description) == ["from 198.19.0.0/26 lookup 20002"])
        bindings.bind(vip(63), to: 20003)
        #expect(bindings.rules(inBlockOf: vip(0)).sorted().map(\.description) == [
            "from 198.19.0.0/27 lookup 20002", "from 198.19.0.32/28 lookup 20002", "from 198.19.0.48/29 lookup 20002",
            "from 198.19.0.56/30 lookup 20002", "from 198.19.0.60/31 lookup 20002", "from 198.19.0.62/32 lookup 20002",
            "from 198.19.0.63/32 lookup 20003",
        ])
        // The next block is independent.
        #expect(bindings.rules(inBlockOf: vip(64)).isEmpty)
        for offset in 0..<64 { bindings.bind(vip(UInt32(offset)), to: nil) }
        #expect(bindings.rules(inBlockOf: vip(0)).isEmpty)
    }

    @Test("prefix 32: one /32 rule and one local route per VIP")
    func singleAddressBlocks() {
        var bindings = BlockBindings(prefixLength: 32)
        bindings.bind(vip(1), to: 7)
        bindings.bind(vip(2), to: 7)
        bindings.setLocal(vip(1), true)
        #expect(bindings.rules(inBlockOf: vip(1)).map(\.description) == ["from 198.19.0.1/32 lookup 7"])
        #expect(bindings.localRoutes(inBlockOf: vip(1)).map(\.description) == ["198.19.0.1/32"])
        #expect(bindings.localRoutes(inBlockOf: vip(2)).isEmpty)
    }

    @Test("local routes cover exactly the local VIPs of the block")
    func localRoutes() {
        var bindings = BlockBindings(prefixLength: 24)
        for offset in 1..<255 { bindings.setLocal(vip(UInt32(offset)), true) }
        #expect(bindings.localRoutes(inBlockOf: vip(9)).count == 14)  // 1/32 2/31 ... 128/26 192/27 ... 254/32
        for offset in 0..<256 { bindings.setLocal(vip(UInt32(offset)), true) }
        #expect(bindings.localRoutes(inBlockOf: vip(9)).map(\.description) == ["198.19.0.0/24"])
        bindings.setLocal(vip(0), false)
        #expect(!bindings.local.contains(vip(0)))
        #expect(bindings.localRoutes(inBlockOf: vip(9)).count == 8)
    }
}
