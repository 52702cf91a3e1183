import Foundation
import Glibc
import ProxyARPCore
import ProxyARPIO
import ProxyARPTestSupport
import Testing

/// Narrowed capture filters on adapters with IPv4 and IPv6 VIPs, live: the kernel's filter
/// takes the Neighbor Discovery clause, each adapter still answers both families, and what it
/// would only ignore never reaches its capture.
@Suite("pcap frame I/O: narrowed filters with IPv4 and IPv6 VIPs", .serialized, .enabled(if: getuid() == 0, "needs root for namespaces and pcap"))
struct PcapFrameIOMixedNarrowingTests {
    static let client = "2001:db8:77::1"
    static let vip4 = IPv4Address(198, 18, 77, 10)
    static let absent4 = IPv4Address(198, 18, 77, 99)
    static let vip6 = IPv6Address("2001:db8:77::10")!
    static let absent6 = IPv6Address("2001:db8:77::99")!
    /// The target of the fixture's solicitation behind a Destination Options header.
    static let fixtureTarget = IPv6Address("2001:db8::2")!

    @Test("an adapter serving an IPv4 and an IPv6 VIP is narrowed for both and answers both; other targets reach neither capture; a solicitation behind an extension header is answered")
    func narrowsBothFamilies() async throws {
        try await SegmentLab.with { lab in
            for setting in ["net.ipv6.conf.all.disable_ipv6=0", "net.ipv6.conf.br0.disable_ipv6=0"] {
                _ = try await lab.inClient(["sysctl", "-qw", setting])
            }
            let added = try await lab.inClient(["ip", "-6", "addr", "add", "\(Self.client)/64", "dev", "br0", "nodad"])
            #expect(added.exitCode == 0, "\(added.output)")
            var options = PcapOptions()  // opened ARP-only, as a daemon started without IPv6 VIPs
            options.filterQuietPeriod = .milliseconds(200)
            let a = AdapterName(lab.adapterA)
            let b = AdapterName(lab.adapterB)
            let io = try PcapFrameIO(adapters: [a, b], options: options)
            io.start()
            do {
                let macA = try #require(io.mac(of: a))
                #expect(await io.wideFilter(on: a) == PcapOptions.defaultFilter)
                io.answerTable.publish(AnswerTable(
                    generation: 1, proxyLists: [a: ProxyList(agentMAC: macA, vips: [Self.vip4])], watchedVIPs: [Self.vip4],
                    ownMACs: Set(io.macs.values),
                    ipv6: IPv6AnswerTable(proxyLists: [a: [Self.vip6, Self.fixtureTarget]], watchedVIPs: [Self.vip6, Self.fixtureTarget])))
                let (narrowedA, narrowedB) = try await io.narrowedFilters(on: a, b)
                let programA = try #require(narrowedA, "A kept the wide filter")
                let programB = try #require(narrowedB, "B kept the wide filter")
                #expect(programA.capturesNeighborDiscovery && programB.capturesNeighborDiscovery)
                #expect(programA.served.count == 1 && programA.servedIPv6.count == 2)
                #expect(programB.served.isEmpty && programB.servedIPv6.isEmpty && programB.oursIPv6.count == 2)
                #expect(await io.wideFilter(on: a) == PcapOptions.filterWithNeighborDiscovery)
                #expect(await io.wideFilter(on: b) == PcapOptions.filterWithNeighborDiscovery)
                try await Task.sleep(for: .seconds(1))  // the client kernel's own start-up NDP is over

                let before = (a: try #require(io.counters(for: a)), b: try #require(io.counters(for: b)))
                let arp = try await lab.inClient(["arping", "-c", "2", "-w", "5", "-I", "br0", "\(Self.vip4)"])
                #expect(arp.output.lowercased().contains("[\(macA)]"), "\(arp.output)")
                let nd = try await lab.inClient(["ndisc6", "-n", "-m", "-r", "1", "-w", "1500", "\(Self.vip6)", "br0"])
                #expect(nd.output.lowercased().contains(macA.description.lowercased()), "\(nd.output)")
                #expect(nd.output.components(separatedBy: "Target link-layer address").count - 1 == 1, "\(nd.output)")
                let arpAbsent = try await lab.inClient(["arping", "-c", "2", "-w", "3", "-I", "br0", "\(Self.absent4)"])
                #expect(arpAbsent.output.contains("Received 0 response"), "\(arpAbsent.output)")
                let ndAbsent = try await lab.inClient(["ndisc6", "-n", "-1", "-r", "2", "-w", "500", "\(Self.absent6)", "br0"])
                #expect(ndAbsent.exitCode != 0, "\(ndAbsent.output)")

                let after = (a: try #require(io.counters(for: a)), b: try #require(io.counters(for: b)))
                #expect(after.a.repliesSent - before.a.repliesSent >= 3, "A answered \(after.a.repliesSent - before.a.repliesSent)")
                // The absent targets' requests and solicitations were dropped by both kernels'
                // filters, and B, which serves nothing, saw none of the client's requests.
                #expect(after.a.ignored[.targetNotOurs, default: 0] == before.a.ignored[.targetNotOurs, default: 0])
                #expect(after.b.ignored[.targetNotOurs, default: 0] == before.b.ignored[.targetNotOurs, default: 0])
                #expect(after.b.requestsSeen == before.b.requestsSeen, "B saw \(after.b.requestsSeen - before.b.requestsSeen) requests")

                // The kernel's solicitation for 2001:db8::2 behind a Destination Options header
                // (linux-ndp.pcap frame 16), sent from B's side: A's narrowed filter lets it
                // through and A answers it.
                let frames = try CaptureFile(path: Fixtures.path(Fixtures.linuxNDPCapture)).frames
                let behindHeader = frames[15]
                #expect(behindHeader.count > 54 && behindHeader[20] == 60, "frame 16 is not the Destination Options one")
                #expect(programA.accepts(behindHeader))
                let sender = try PcapHandle.openLive(device: lab.adapterB, options: PcapOptions(filter: "icmp6"))
                let repliesBefore = try #require(io.counters(for: a)).repliesSent
                var answered = false
                for _ in 0..<3 where !answered {
                    try behindHeader.withUnsafeBytes { try sender.inject($0) }
                    let heard = readFrames(from: sender, for: .seconds(1))
                    answered = heard.contains { frame in
                        guard case .ndp(let parsed) = NDPParser.parse(frame) else { return false }
                        return parsed.target == Self.fixtureTarget && parsed.ethernet.source == macA
                    }
                }
                sender.close()
                #expect(answered, "no advertisement for \(Self.fixtureTarget) from A")
                #expect(try #require(io.counters(for: a)).repliesSent > repliesBefore)
            } catch {
                await io.shutdown()
                throw error
            }
            await io.shutdown()
        }
    }
}
