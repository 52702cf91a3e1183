import Foundation
import Glibc
import ProxyARPCore
import ProxyARPIO
import ProxyARPTestSupport
import Testing

/// The IPv6 path of the production capture (AdapterIO → CaptureBatch → AnswerKernel →
/// NDPAnswerRules → pcap_inject) against the client namespace's own kernel and ndisc6.
@Suite("pcap frame I/O: Neighbor Discovery on a namespace lab", .serialized, .enabled(if: getuid() == 0, "needs root for namespaces and pcap"))
struct PcapFrameIONDPTests {
    static let client = "2001:db8:77::1"
    static let vip = IPv6Address("2001:db8:77::10")!
    static let absentVIP = IPv6Address("2001:db8:77::99")!

    @Test("ndisc6 and the client kernel resolve a published IPv6 VIP to the agent's MAC, one advertisement per solicitation; other targets go unanswered")
    func resolvesPublishedVIP() async throws {
        try await SegmentLab.with { lab in
            for setting in ["net.ipv6.conf.all.disable_ipv6=0", "net.ipv6.conf.br0.disable_ipv6=0"] {
                _ = try await lab.inClient(["sysctl", "-qw", setting])
            }
            let added = try await lab.inClient(["ip", "-6", "addr", "add", "\(Self.client)/64", "dev", "br0", "nodad"])
            #expect(added.exitCode == 0, "\(added.output)")

            let a = AdapterName(lab.adapterA)
            let b = AdapterName(lab.adapterB)
            let io = try PcapFrameIO(adapters: [a, b], options: { var options = PcapOptions(filter: PcapOptions.filterWithNeighborDiscovery); options.narrowsFilter = false; return options }())  // the codec path: every solicitation reaches it
            io.start()
            do {
                let macA = try #require(io.mac(of: a))
                io.answerTable.publish(AnswerTable(
                    generation: 1, proxyLists: [:], watchedVIPs: [], ownMACs: Set(io.macs.values),
                    ipv6: IPv6AnswerTable(proxyLists: [a: [Self.vip]], watchedVIPs: [Self.vip])))

                // -m waits the whole time and prints every answer: exactly one is expected.
                let answered = try await lab.inClient(["ndisc6", "-n", "-m", "-r", "1", "-w", "1500", "\(Self.vip)", "br0"])
                #expect(answered.exitCode == 0, "\(answered.output)")
                #expect(answered.output.lowercased().contains(macA.description.uppercased().lowercased()), "\(answered.output)")
                let answers = answered.output.components(separatedBy: "Target link-layer address").count - 1
                #expect(answers == 1, "\(answered.output)")

                let unanswered = try await lab.inClient(["ndisc6", "-n", "-1", "-r", "2", "-w", "500", "\(Self.absentVIP)", "br0"])
                #expect(unanswered.exitCode != 0, "\(unanswered.output)")

                // The client's kernel: its own solicitation, our advertisement, its cache.
                _ = try await lab.inClient(["ping", "-6", "-c", "1", "-W", "1", "\(Self.vip)"])
                let neighbour = try await lab.inClient(["ip", "-6", "neigh", "show", "\(Self.vip)", "dev", "br0"])
                #expect(neighbour.output.contains("lladdr \(macA)"), "\(neighbour.output)")

                let countersA = try #require(io.counters(for: a))
                let countersB = try #require(io.counters(for: b))
                #expect(countersA.repliesSent >= 2)
                #expect(countersA.injectErrors == 0)
                #expect(countersA.ignored[.targetNotOurs, default: 0] >= 2)
                #expect(countersB.repliesSent == 0)
                #expect(countersB.requestsSeen >= 3)
            } catch {
                await io.shutdown()
                throw error
            }
            await io.shutdown()
        }
    }
}
