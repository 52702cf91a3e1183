import ProxyARPCore
import ProxyARPTestSupport
import Testing

let linuxNDP = Fixtures.linuxNDPCapture
let craftedNDP = Fixtures.craftedNDPCapture

/// The addresses of linux-ndp.pcap (Tests/Fixtures/README.md).
enum NDPLab {
    static let client = IPv6Address("2001:db8::1")!
    static let vip = IPv6Address("2001:db8::2")!
    static let other = IPv6Address("2001:db8::3")!

    /// Host B answering for 2001:db8::2 with its own MAC, as the kernel did in the capture.
    static let hostBView = AnswerView(
        adapterMAC: Lab.hostB, proxyList: [], watchedVIPs: [], ownMACs: [Lab.hostB],
        ipv6: IPv6AnswerSets(proxyList: [vip], watchedVIPs: [vip]))
}

/// One expected NDP decision for a captured frame under ``NDPLab/hostBView``.
struct NDPRow: Sendable, CustomTestStringConvertible {
    let file: String
    let number: Int
    let expected: Expected
    var testDescription: String { "\(file) #\(number)" }

    enum Expected: Sendable {
        /// An advertisement byte for byte equal to the kernel's frame `kernelFrame`.
        case advertiseAsKernel(kernelFrame: Int, observation: NDPObservation?)
        case observe(NDPObservation)
        case ignore(IgnoreReason)
    }

    init(_ file: String, _ number: Int, _ expected: Expected) {
        self.file = file
        self.number = number
        self.expected = expected
    }
}

/// Every frame of linux-ndp.pcap: where the kernel answered, our advertisement is the
/// kernel's; where it dropped, we ignore, with the reason.
let linuxNDPDecisions: [NDPRow] = [
    NDPRow(linuxNDP, 1, .advertiseAsKernel(kernelFrame: 2, observation: nil)),
    NDPRow(linuxNDP, 2, .ignore(.ownFrame)),  // the kernel's solicited advertisement, from B
    NDPRow(linuxNDP, 3, .advertiseAsKernel(kernelFrame: 4, observation: .probe(vip: NDPLab.vip, from: Lab.hostA))),
    NDPRow(linuxNDP, 4, .observe(.ownAnnouncement(vip: NDPLab.vip, mac: Lab.hostB))),  // B's unsolicited defence
    NDPRow(linuxNDP, 5, .ignore(.ownFrame)),  // B's own DAD probe
    NDPRow(linuxNDP, 6, .ignore(.announcementNotOurs)),  // B announcing 2001:db8::3, not a VIP
    NDPRow(linuxNDP, 7, .advertiseAsKernel(kernelFrame: 8, observation: nil)),
    NDPRow(linuxNDP, 9, .ignore(.malformed(.badChecksum))),
    NDPRow(linuxNDP, 10, .ignore(.malformed(.badHopLimit))),
    NDPRow(linuxNDP, 11, .ignore(.malformed(.badICMPv6Code))),
    NDPRow(linuxNDP, 12, .ignore(.malformed(.badNDPOption))),
    NDPRow(linuxNDP, 13, .ignore(.malformed(.badNDPOption))),
    NDPRow(linuxNDP, 14, .ignore(.malformed(.multicastTarget))),
    NDPRow(linuxNDP, 15, .ignore(.malformed(.badIPv6Source))),
    NDPRow(linuxNDP, 16, .advertiseAsKernel(kernelFrame: 17, observation: nil)),  // behind a destination options header
    NDPRow(linuxNDP, 18, .ignore(.otherVLAN)),
    NDPRow(linuxNDP, 19, .advertiseAsKernel(kernelFrame: 20, observation: nil)),  // unicast, no SLLA: S=1 O=0, no option
    NDPRow(linuxNDP, 21, .ignore(.malformed(.badDADProbe))),
    NDPRow(linuxNDP, 22, .advertiseAsKernel(kernelFrame: 23, observation: nil)),  // priority tag: untagged answer
    NDPRow(linuxNDP, 24, .ignore(.targetNotOurs)),
    // The kernel answered (it had joined ff02::1:ff00:3 for its other address); we answer
    // only in the target's own group, the one we join for it.
    NDPRow(linuxNDP, 25, .ignore(.notForUs)),
    NDPRow(linuxNDP, 27, .ignore(.malformed(.truncated))),
]

let craftedNDPDecisions: [NDPRow] = [
    NDPRow(craftedNDP, 17, .observe(.conflict(vip: NDPLab.vip, claimedBy: Lab.foreign))),
    NDPRow(craftedNDP, 18, .observe(.conflict(vip: NDPLab.vip, claimedBy: Lab.foreign))),
]

@Suite("NDP answer rules against the kernel's own answers")
struct NDPAnswerRulesTests {
    @Test("Each frame of the Linux capture gets the kernel's answer or is ignored with its reason",
        arguments: linuxNDPDecisions + craftedNDPDecisions)
    func decision(row: NDPRow) throws {
        let frame = try TestData.frame(row.number, of: row.file)
        let decision = NDPAnswerRules.decide(frame, view: NDPLab.hostBView)
        switch row.expected {
        case .advertiseAsKernel(let kernelFrame, let observation):
            let plan = try #require(decision.plan, "no advertisement: \(decision)")
            #expect(decision.observation == observation)
            let kernel = try TestData.frame(kernelFrame, of: row.file)
            #expect(encodeInPlace(plan) == kernel, "differs from the kernel's frame \(kernelFrame)")
            #expect(plan.bytes == kernel)
        case .observe(let observation):
            #expect(decision == .observe(observation))
        case .ignore(let reason):
            #expect(decision == .ignore(reason))
        }
    }

    @Test("The crafted capture holds the same solicitations the kernel was sent")
    func craftedMatchesSent() throws {
        let sent = [7, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 21, 22, 24, 25, 27]
        let linux = try TestData.frames(linuxNDP)
        let crafted = try TestData.frames(craftedNDP)
        #expect(crafted.count == sent.count + 2)
        for (index, number) in sent.enumerated() {
            #expect(crafted[index] == linux[number - 1], "crafted #\(index + 1) vs linux #\(number)")
        }
    }

    @Test("The unsolicited advertisement we announce with is the kernel's, byte for byte")
    func unsolicitedAsKernel() throws {
        let kernel = try TestData.frame(6, of: linuxNDP)  // B announcing 2001:db8::3 after DAD
        #expect(NDPFrames.unsolicitedAdvertisement(mac: Lab.hostB, vip: NDPLab.other) == kernel)
    }

    @Test("The solicitation in the ARP capture is answered as the kernel answered it")
    func arpCaptureSolicitation() throws {
        let decision = NDPAnswerRules.decide(try TestData.frame(14, of: TestData.linuxCapture), view: NDPLab.hostBView)
        #expect(try #require(decision.plan).bytes == (try TestData.frame(15, of: TestData.linuxCapture)))
        #expect(NDPAnswerRules.decide(try TestData.frame(16, of: TestData.linuxCapture), view: NDPLab.hostBView)
            == .ignore(.notNeighborDiscovery))  // an echo request
        #expect(NDPAnswerRules.decide(try TestData.frame(3, of: TestData.linuxCapture), view: NDPLab.hostBView)
            == .ignore(.notNeighborDiscovery))  // ARP
    }

    @Test("Own announcements are reported only while awaited; a solicitation from our VIP by another MAC is a conflict")
    func ownAndClaims() throws {
        let announce = NDPFrames.unsolicitedAdvertisement(mac: Lab.hostA, vip: NDPLab.vip)
        func view(awaiting: IPv6AddressSet?) -> AnswerView {
            AnswerView(
                adapterMAC: Lab.hostB, proxyList: [], watchedVIPs: [], ownMACs: [Lab.hostA, Lab.hostB],
                ipv6: IPv6AnswerSets(proxyList: [], watchedVIPs: [NDPLab.vip], awaitingConfirmation: awaiting))
        }
        #expect(NDPAnswerRules.decide(announce, view: view(awaiting: [NDPLab.vip]))
            == .observe(.ownAnnouncement(vip: NDPLab.vip, mac: Lab.hostA)))
        #expect(NDPAnswerRules.decide(announce, view: view(awaiting: [])) == .ignore(.announcementNotAwaited))
        // Frame 1 solicits from 2001:db8::1; with that address as one of our VIPs, host A claims it.
        let claimView = AnswerView(
            adapterMAC: Lab.hostB, proxyList: [], watchedVIPs: [], ownMACs: [Lab.hostB],
            ipv6: IPv6AnswerSets(proxyList: [NDPLab.vip], watchedVIPs: [NDPLab.vip, NDPLab.client]))
        #expect(NDPAnswerRules.decide(try TestData.frame(1, of: linuxNDP), view: claimView)
            == .observe(.conflict(vip: NDPLab.client, claimedBy: Lab.hostA)))
        // No IPv6 VIP on this adapter: the solicitation is not ours.
        let arpOnly = AnswerView(adapterMAC: Lab.hostB, proxyList: [Lab.ipB], watchedVIPs: [Lab.ipB], ownMACs: [Lab.hostB])
        #expect(NDPAnswerRules.decide(try TestData.frame(1, of: linuxNDP), view: arpOnly) == .ignore(.targetNotOurs))
    }

    @Test("A unicast solicitation to another MAC is not for us")
    func unicastToAnotherMAC() throws {
        var frame = try TestData.frame(19, of: linuxNDP)
        frame[5] ^= 0x10  // Ethernet destination: not host B
        #expect(NDPAnswerRules.decide(frame, view: NDPLab.hostBView) == .ignore(.notForUs))
    }

    private func encodeInPlace(_ plan: NDPAdvertisementPlan) -> [UInt8] {
        var buffer = [UInt8](repeating: 0xEE, count: NDPEncoder.maximumLength)
        let written = buffer.withUnsafeMutableBytes { plan.encode(into: $0) }
        #expect(written == plan.length)
        return Array(buffer.prefix(written))
    }
}
