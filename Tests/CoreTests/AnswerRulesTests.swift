import ProxyARPCore
import Testing

/// One expected decision for a captured frame under ``Lab/hostBView``.
struct DecisionRow: Sendable, CustomTestStringConvertible {
    let file: String
    let number: Int
    let expected: Expected
    var testDescription: String { "\(file) #\(number)" }

    enum Expected: Sendable {
        /// A reply whose bytes are these, with this observation.
        case reply(hex: String, observation: ARPObservation?)
        case observe(ARPObservation)
        case ignore(IgnoreReason)
    }

    init(_ file: String, _ number: Int, _ expected: Expected) {
        self.file = file
        self.number = number
        self.expected = expected
    }
}

// Expected replies, written out by hand from the requests (B answers A).
private let replyVIP100ToA = "020000000a01 020000000b01 0806 0001 0800 06 04 0002 020000000b01 c6120064 020000000a01 c6120001"
private let probeReplyVIP100 =
    "020000000a01 020000000b01 0806 0001 0800 06 04 0002 020000000b01 c6120064 020000000a01 00000000"

let linuxDecisions: [DecisionRow] = [
    DecisionRow(linux, 1, .ignore(.notARP)), DecisionRow(linux, 2, .ignore(.notARP)),
    DecisionRow(linux, 4, .ignore(.ownFrame)),  // the kernel's reply from B itself
    DecisionRow(linux, 6, .ignore(.ownFrame)),
    DecisionRow(linux, 7, .ignore(.targetNotOurs)),
    DecisionRow(linux, 8, .ignore(.announcementNotOurs)),
    DecisionRow(linux, 9, .ignore(.notARP)), DecisionRow(linux, 10, .ignore(.notARP)),
    DecisionRow(linux, 11, .ignore(.announcementNotOurs)),
    DecisionRow(linux, 13, .ignore(.ownFrame)),
    DecisionRow(linux, 14, .ignore(.notARP)), DecisionRow(linux, 15, .ignore(.notARP)),
    DecisionRow(linux, 16, .ignore(.notARP)), DecisionRow(linux, 17, .ignore(.notARP)),
]

let craftedDecisions: [DecisionRow] = [
    // Tagged with VLAN 100 (and QinQ 10/100): not the adapter's untagged segment.
    DecisionRow(crafted, 1, .ignore(.otherVLAN)),
    DecisionRow(crafted, 2, .reply(hex: replyVIP100ToA, observation: nil)),
    DecisionRow(crafted, 3, .ignore(.otherVLAN)),
    DecisionRow(crafted, 4, .ignore(.malformed(.truncated))),
    DecisionRow(crafted, 5, .ignore(.malformed(.badAddressLengths))),
    DecisionRow(crafted, 6, .ignore(.malformed(.unknownOpcode))),
    DecisionRow(crafted, 7, .ignore(.malformed(.badHardwareType))),
    DecisionRow(crafted, 8, .reply(hex: probeReplyVIP100, observation: .probe(vip: Lab.vip100, from: Lab.hostA))),
    DecisionRow(crafted, 9, .observe(.conflict(vip: Lab.vip100, claimedBy: Lab.foreign))),
    // Ethernet source C, ARP sender A: the reply goes to the ARP sender, as Linux does.
    DecisionRow(crafted, 10, .reply(hex: replyVIP100ToA, observation: nil)),
    DecisionRow(crafted, 11, .reply(hex: replyVIP100ToA, observation: nil)),
    DecisionRow(crafted, 12, .reply(hex: replyVIP100ToA, observation: nil)),
]

/// Another host using 198.18.0.100 (Tests/Fixtures/foreign-claims.pcap): claims, never answered.
let foreignClaimDecisions: [DecisionRow] = [
    DecisionRow(TestData.foreignClaimsCapture, 1, .observe(.conflict(vip: Lab.vip100, claimedBy: Lab.foreign))),
    DecisionRow(TestData.foreignClaimsCapture, 2, .observe(.conflict(vip: Lab.vip100, claimedBy: Lab.foreign))),
]

/// VLAN scope (Tests/Fixtures/vlan-scope.pcap): only untagged and priority-tagged (VID 0)
/// frames belong to the adapter's segment; the reply to a priority-tagged request is untagged.
let vlanScopeDecisions: [DecisionRow] = [
    DecisionRow(vlanScope, 1, .ignore(.otherVLAN)),
    DecisionRow(vlanScope, 2, .reply(hex: replyVIP100ToA, observation: nil)),
    DecisionRow(vlanScope, 3, .ignore(.otherVLAN)),
    // A foreign claim on another VLAN is not a conflict on ours.
    DecisionRow(vlanScope, 4, .ignore(.otherVLAN)),
]

@Suite("Answer rules")
struct AnswerRulesTests {
    @Test("Captured frames get the expected decision from host B", arguments: linuxDecisions + craftedDecisions + vlanScopeDecisions + foreignClaimDecisions)
    func decision(_ row: DecisionRow) throws {
        let frame = try TestData.frame(row.number, of: row.file)
        let decision = AnswerRules.decide(frame, view: Lab.hostBView)
        switch row.expected {
        case .reply(let expectedHex, let observation):
            let plan = try #require(decision.replyPlan)
            #expect(plan.bytes == hex(expectedHex))
            #expect(decision.observation == observation)
            #expect(encodeInPlace(plan) == hex(expectedHex))
        case .observe(let observation):
            #expect(decision == .observe(observation))
        case .ignore(let reason):
            #expect(decision == .ignore(reason))
        }
    }

    /// The kernel's own replies in the Linux capture are the reference for ours.
    @Test(
        "Our reply equals the Linux kernel's reply byte for byte",
        arguments: [(3, 4), (5, 6), (12, 13)]
    )
    func matchesKernel(request: Int, kernelReply: Int) throws {
        let frames = try TestData.frames(linux)
        let decision = AnswerRules.decide(frames[request - 1], view: Lab.hostBView)
        let plan = try #require(decision.replyPlan)
        #expect(plan.bytes == frames[kernelReply - 1])
        #expect(encodeInPlace(plan) == frames[kernelReply - 1])
        let expectedObservation: ARPObservation? = request == 12 ? .probe(vip: Lab.ipB, from: Lab.hostA) : nil
        #expect(decision.observation == expectedObservation)
    }

    @Test("Gratuitous ARPs from a sibling adapter of ours are our own announcements", arguments: [8, 11])
    func ownAnnouncement(frame number: Int) throws {
        let frame = try TestData.frame(number, of: linux)
        #expect(AnswerRules.decide(frame, view: Lab.siblingView) == .observe(.ownAnnouncement(vip: Lab.ipA, mac: Lab.hostA)))
    }

    @Test("Our own encoded announcements are recognised as ours, and never answered")
    func ownEncodedAnnouncements() {
        for bytes in [
            ARPFrames.gratuitousRequest(mac: Lab.hostB, vip: Lab.vip100),
            ARPFrames.gratuitousReply(mac: Lab.hostB, vip: Lab.vip100),
            ARPFrames.gratuitousRequest(mac: Lab.hostB, vip: Lab.vip100, tags: VLANTags(VLANTag(vlanID: 0, priority: 3))),
        ] {
            #expect(AnswerRules.decide(bytes, view: Lab.hostBView) == .observe(.ownAnnouncement(vip: Lab.vip100, mac: Lab.hostB)))
        }
        let tagged = ARPFrames.gratuitousRequest(mac: Lab.hostB, vip: Lab.vip100, tags: VLANTags(VLANTag(vlanID: 7)))
        #expect(AnswerRules.decide(tagged, view: Lab.hostBView) == .ignore(.otherVLAN))
        let foreign = ARPFrames.gratuitousRequest(mac: Lab.foreign, vip: Lab.vip100)
        #expect(AnswerRules.decide(foreign, view: Lab.hostBView) == .observe(.conflict(vip: Lab.vip100, claimedBy: Lab.foreign)))
    }

    @Test("Another host using one of our VIPs is a claim: its gratuitous ARPs (8, 11), its requests (3, 5) and its probe answer (13 is B's own reply: ours)",
          arguments: [(3, true), (5, true), (7, true), (8, true), (11, true), (13, false)])
    func claims(frame number: Int, isClaim: Bool) throws {
        let frame = try TestData.frame(number, of: linux)
        let decision = AnswerRules.decide(frame, view: Lab.claimView)
        if isClaim {
            #expect(decision == .observe(.conflict(vip: Lab.ipA, claimedBy: Lab.hostA)))
        } else {
            #expect(decision == .ignore(.ownFrame))
        }
    }

    @Test("A request from a MAC of ours is not answered")
    func requestFromSibling() throws {
        let frame = try TestData.frame(3, of: linux)
        #expect(AnswerRules.decide(frame, view: Lab.siblingView) == .ignore(.ownFrame))
    }

    @Test("Unicast requests to another adapter's MAC are not for us", arguments: [(linux, 5), (crafted, 12)])
    func unicastToAnother(file: String, number: Int) throws {
        let other = AnswerView(
            adapterMAC: MACAddress(0x02, 0, 0, 0, 0x0d, 0x01),
            proxyList: Lab.hostBView.proxyList,
            watchedVIPs: Lab.hostBView.watchedVIPs,
            ownMACs: [MACAddress(0x02, 0, 0, 0, 0x0d, 0x01)]
        )
        #expect(AnswerRules.decide(try TestData.frame(number, of: file), view: other) == .ignore(.notForUs))
    }

    @Test("A request to a multicast Ethernet destination is not for us")
    func multicastDestination() throws {
        var frame = try TestData.frame(3, of: linux)
        frame.replaceSubrange(0..<6, with: [0x01, 0x00, 0x5e, 0x00, 0x00, 0x01])
        #expect(AnswerRules.decide(frame, view: Lab.hostBView) == .ignore(.notForUs))
    }

    @Test("A request whose sender MAC is not unicast is not answered", arguments: [
        MACAddress.broadcast, MACAddress.zero, MACAddress(0x01, 0x00, 0x5e, 0x00, 0x00, 0x01),
    ])
    func senderNotUnicast(sender: MACAddress) throws {
        var frame = try TestData.frame(3, of: linux)
        frame.replaceSubrange(22..<28, with: (0..<6).map { sender.octet($0) })
        #expect(AnswerRules.decide(frame, view: Lab.hostBView) == .ignore(.senderNotUnicast))
    }

    @Test("A non-gratuitous reply from a foreign MAC claiming a VIP is a conflict; otherwise ignored")
    func foreignReply() throws {
        // The kernel's reply 4, as seen by a host A that watches 198.18.0.2 but does not own MAC B.
        let frame = try TestData.frame(4, of: linux)
        let hostAView = AnswerView(adapterMAC: Lab.hostA, proxyList: [], watchedVIPs: [Lab.ipB], ownMACs: [Lab.hostA])
        #expect(AnswerRules.decide(frame, view: hostAView) == .observe(.conflict(vip: Lab.ipB, claimedBy: Lab.hostB)))
        let unrelated = AnswerView(adapterMAC: Lab.hostA, proxyList: [], watchedVIPs: [Lab.vip100], ownMACs: [Lab.hostA])
        #expect(AnswerRules.decide(frame, view: unrelated) == .ignore(.notARequest))
    }

    @Test("Gratuitous ARP for an address that is not ours is ignored", arguments: [8, 11])
    func unrelatedAnnouncement(frame number: Int) throws {
        let view = AnswerView(adapterMAC: Lab.hostB, proxyList: [Lab.ipB], watchedVIPs: [Lab.ipB], ownMACs: [Lab.hostB])
        #expect(AnswerRules.decide(try TestData.frame(number, of: linux), view: view) == .ignore(.announcementNotOurs))
    }

    @Test("The empty view answers nothing in either capture")
    func emptyView() throws {
        let view = AnswerView(adapterMAC: Lab.hostB, proxyList: [], watchedVIPs: [], ownMACs: [Lab.hostB])
        for frame in try TestData.frames(linux) + TestData.frames(crafted) {
            let decision = AnswerRules.decide(frame, view: view)
            #expect(decision.replyPlan == nil)
            #expect(decision.observation == nil)
        }
    }

    @Test("Own announcements are reported only for VIPs awaiting confirmation, when the view says which")
    func ownAnnouncementOnlyWhenAwaited() {
        let garp = ARPFrames.gratuitousRequest(mac: Lab.hostA, vip: Lab.vip100)
        func view(awaiting: AddressSet?) -> AnswerView {
            AnswerView(adapterMAC: Lab.hostB, proxyList: [], watchedVIPs: [Lab.vip100], ownMACs: [Lab.hostA, Lab.hostB], awaitingConfirmation: awaiting)
        }
        #expect(AnswerRules.decide(garp, view: view(awaiting: nil)) == .observe(.ownAnnouncement(vip: Lab.vip100, mac: Lab.hostA)))
        #expect(AnswerRules.decide(garp, view: view(awaiting: [Lab.vip100])) == .observe(.ownAnnouncement(vip: Lab.vip100, mac: Lab.hostA)))
        #expect(AnswerRules.decide(garp, view: view(awaiting: [])) == .ignore(.announcementNotAwaited))
        // A foreign claim is a conflict whatever awaits confirmation.
        let claim = ARPFrames.gratuitousReply(mac: MACAddress(0x02, 0, 0, 0, 0x0c, 0x01), vip: Lab.vip100)
        #expect(AnswerRules.decide(claim, view: view(awaiting: [])) == .observe(.conflict(vip: Lab.vip100, claimedBy: MACAddress(0x02, 0, 0, 0, 0x0c, 0x01))))
    }

    @Test("Ignore reasons have dense, distinct counter indexes and labels")
    func ignoreReasonIndexes() {
        let all = IgnoreReason.allCases
        #expect(all.count == 10 + MalformedFrameReason.allCases.count)
        #expect(all.map(\.counterIndex) == Array(0..<all.count))
        #expect(Set(all.map(\.label)).count == all.count)
        #expect(Set(all).count == all.count)
    }

    private func encodeInPlace(_ plan: ARPReplyPlan) -> [UInt8] {
        var buffer = [UInt8](repeating: 0xEE, count: ARPEncoder.maximumLength)
        let written = buffer.withUnsafeMutableBytes { plan.encode(into: $0) }
        #expect(written == plan.length)
        return Array(buffer.prefix(written))
    }
}
