import ProxyARPConfig
import ProxyARPCore
import Testing

@Suite("io: section")
struct IOSectionTests {
    private let head = "adapters:\n  - name: eth0\nvips:\n  - address: 198.18.0.100\n"

    @Test("fast_path defaults to auto and reads each mode", arguments: FastPathMode.allCases)
    func modes(mode: FastPathMode) throws {
        #expect(try ConfigurationLoader.load(yaml: head, fileName: "t.yaml").io.fastPath == .auto)
        let loaded = try ConfigurationLoader.load(yaml: head + "io:\n  fast_path: \(mode.rawValue)\n", fileName: "t.yaml")
        #expect(loaded.io.fastPath == mode)
    }

    @Test("an unknown mode, a non-string and an unknown key are refused with their line and reason")
    func refused() {
        let unknown = loadErrors(head + "io:\n  fast_path: dpdk\n")
        #expect(unknown.count == 1 && unknown[0].line == 6)
        #expect(unknown.first?.reason.contains("\"dpdk\" is not a fast path; expected one of pcap, xdp, auto") == true, "\(unknown)")
        let list = loadErrors(head + "io:\n  fast_path: [xdp]\n")
        #expect(list.count == 1 && list[0].line == 6 && list[0].reason.contains("expected a string"), "\(list)")
        let key = loadErrors(head + "io:\n  fastpath: xdp\n")
        #expect(key.count == 1 && key[0].line == 6 && key[0].reason.contains("unknown key \"fastpath\""), "\(key)")
    }

    @Test("capture_filter defaults to narrow, arp_guard to unset (on as root); both read")
    func filterAndGuard() throws {
        let defaults = try ConfigurationLoader.load(yaml: head, fileName: "t.yaml").io
        #expect(defaults.captureFilter == .narrow && defaults.arpGuard == nil)
        let set = try ConfigurationLoader.load(
            yaml: head + "io:\n  capture_filter: arp\n  arp_guard: true\n", fileName: "t.yaml").io
        #expect(set.captureFilter == .arp && set.arpGuard == true)
        let bad = loadErrors(head + "io:\n  capture_filter: all\n  arp_guard: maybe\n")
        #expect(bad.count == 2, "\(bad)")
        #expect(bad.first?.line == 6 && bad.first?.reason.contains("\"all\" is not a capture filter; expected one of narrow, arp") == true, "\(bad)")
        #expect(bad.last?.line == 7, "\(bad)")
    }
}
