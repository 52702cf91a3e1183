import ProxyARPCore

/// What must hold for any frame; each check traps (`precondition`, kept in release
/// builds) with the broken rule, so libFuzzer saves the input as a crash.
enum FrameInvariants {
    /// Parsing is deterministic; a parsed ARP frame encodes back to the input's first
    /// `length` bytes and parses again to the same value.
    static func checkParse(_ frame: UnsafeRawBufferPointer) {
        let parsed = FrameParser.parse(frame)
        precondition(FrameParser.parse(frame) == parsed, "parse is not deterministic")
        guard case .arp(let arp) = parsed else { return }
        precondition(arp.length <= frame.count, "parsed frame longer than its bytes")
        let encoded = arp.bytes
        precondition(encoded.elementsEqual(frame.prefix(arp.length)), "re-encoded frame differs from its bytes")
        precondition(FrameParser.parse(encoded) == parsed, "re-encoded frame parses differently")
    }

    /// `decide` is deterministic and agrees with deciding the parsed frame; a reply plan
    /// encodes to a reply from the adapter's MAC to the requester, about the requested
    /// VIP, which the adapter then ignores as its own frame.
    static func checkDecision(_ frame: UnsafeRawBufferPointer, view: AnswerView) {
        let decision = AnswerRules.decide(frame, view: view)
        precondition(AnswerRules.decide(frame, view: view) == decision, "decide is not deterministic")
        if case .arp(let parsed) = FrameParser.parse(frame) {
            precondition(AnswerRules.decide(parsed, view: view) == decision, "decide(buffer) != decide(parsed)")
        }
        guard let plan = decision.replyPlan else { return }
        guard case .arp(let request) = FrameParser.parse(frame) else {
            preconditionFailure("a reply planned for a frame that is not ARP")
        }
        precondition(view.proxyList.contains(plan.vip), "a reply for an address not on the proxy list")
        precondition(plan.vip == request.arp.targetIP, "a reply for another address than the one asked")

        let reply = plan.bytes
        precondition(reply.count == plan.length, "reply length")
        guard case .arp(let heard) = FrameParser.parse(reply) else {
            preconditionFailure("the reply does not parse as ARP")
        }
        precondition(heard.arp.operation == .reply, "the reply is not an ARP reply")
        precondition(heard.kind == .reply, "the reply is classified \(heard.kind)")
        precondition(heard.ethernet.source == view.adapterMAC, "reply's Ethernet source is not the adapter")
        precondition(heard.arp.senderMAC == view.adapterMAC, "reply's sender MAC is not the adapter")
        precondition(heard.arp.senderIP == plan.vip, "reply's sender IP is not the VIP")
        precondition(heard.ethernet.destination == request.arp.senderMAC, "reply not sent to the requester")
        precondition(heard.arp.targetMAC == request.arp.senderMAC, "reply's target MAC is not the requester")
        precondition(heard.arp.targetIP == request.arp.senderIP, "reply's target IP is not the requester's")
        precondition(heard.ethernet.tags.count == 0, "reply is tagged")
        let echo = AnswerRules.decide(reply, view: view)
        precondition(echo == .ignore(.ownFrame), "the reply heard back is not ignored as ownFrame: \(echo)")
    }
}
