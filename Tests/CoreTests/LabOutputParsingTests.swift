import ProxyARPCore
import ProxyARPTestSupport
import Testing

/// The lab's readers of tool output (`ndisc6`, `bridge mdb`), on output those tools printed.
@Suite("Lab tool output")
struct LabOutputParsingTests {
    @Test("ndisc6 -m: one MAC per advertisement; a timeout gives none")
    func ndisc6() {
        let two = """
            Soliciting 2001:db8:fe::10 (2001:db8:fe::10) on c0...
            Target link-layer address: DA:BF:89:33:95:E9
             from 2001:db8:fe::10
            Target link-layer address: 02:A0:00:00:00:11
             from 2001:db8:fe::10
            """
        #expect(HostLab.advertisedMACs(in: two) == [MACAddress(0xDA, 0xBF, 0x89, 0x33, 0x95, 0xE9), MACAddress(0x02, 0xA0, 0, 0, 0, 0x11)])
        let none = "Soliciting 2001:db8:fe::99 (2001:db8:fe::99) on c0...\nTimed out.\nTimed out.\nNo response.\n"
        #expect(HostLab.advertisedMACs(in: none).isEmpty)
    }

    @Test("bridge mdb show: the IPv6 groups by port; IPv4 groups skipped")
    func mdb() {
        let output = """
            dev br0 port br0 grp ff02::1:ff00:5 temp
            dev br0 port s-h1 grp ff02::1:ff00:99 temp
            dev br0 port s-c0 grp 224.0.0.251 temp
            dev br0 port s-h0 grp ff02::1:ff00:10 temp
            """
        #expect(MLDSnoopingSwitch.memberships(in: output) == [
            .init(port: "br0", group: IPv6Address("ff02::1:ff00:5")!),
            .init(port: "s-h1", group: IPv6Address("ff02::1:ff00:99")!),
            .init(port: "s-h0", group: IPv6Address("ff02::1:ff00:10")!),
        ])
    }

    @Test("The IPv6 lab plan: two /64s of 2001:db8:SITE, adapters and VIPs where the tests expect them")
    func plan() {
        let plan = IPv6LabPlan(site: 0xBE)
        #expect(plan.address(of: "h0") == IPv6Address("2001:db8:be::10"))
        #expect(plan.address(of: "h1") == IPv6Address("2001:db8:be::11"))
        #expect(plan.address(of: "h2") == IPv6Address("2001:db8:be:1::10"))
        #expect(plan.client == IPv6Address("2001:db8:be::1"))
        #expect(plan.vip(1) == IPv6Address("2001:db8:be::101"))
        #expect(plan.prefix(of: "h1") == IPv6Prefix("2001:db8:be::/64"))
        #expect(plan.prefix(of: "h2") == IPv6Prefix("2001:db8:be:1::/64"))
        // The standard plan is the one the IPv6 end-to-end tests name their VIPs in.
        #expect(IPv6LabPlan.standard.address(of: "h0") == IPv6Address("2001:db8::10"))
        #expect(IPv6LabPlan.standard.prefix(of: "h2") == IPv6Prefix("2001:db8:0:1::/64"))
    }
}
