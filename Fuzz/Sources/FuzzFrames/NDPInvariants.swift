import ProxyARPCore

/// What must hold for any frame on the IPv6 path (``NDPParser``, ``NDPAnswerRules``); each
/// check traps with the broken rule, as ``FrameInvariants`` does.
enum NDPInvariants {
    /// Parsing and deciding are deterministic; an advertisement is planned only for a
    /// solicitation of a VIP on the adapter's IPv6 list, encodes to a valid, untagged
    /// advertisement of that VIP from the adapter's MAC, and heard back is never answered.
    static func check(_ frame: UnsafeRawBufferPointer, view: AnswerView) {
        let parsed = NDPParser.parse(frame)
        precondition(NDPParser.parse(frame) == parsed, "NDP parse is not deterministic")
        guard case .ndp(let ndp) = parsed else { return }
        let decision = NDPAnswerRules.decide(ndp, view: view)
        precondition(NDPAnswerRules.decide(ndp, view: view) == decision, "NDP decide is not deterministic")
        guard let plan = decision.plan else { return }
        precondition(ndp.message == .solicitation, "an advertisement answered")
        precondition(plan.vip == ndp.target && view.ipv6.proxyList.contains(plan.vip), "answered for another address")

        let reply = plan.bytes
        precondition(reply.count == plan.length, "advertisement length")
        guard case .ndp(let heard) = NDPParser.parse(reply) else {
            preconditionFailure("our advertisement does not parse as valid NDP")
        }
        guard case .advertisement(let flags) = heard.message else { preconditionFailure("not an advertisement") }
        precondition(!flags.router, "R set")
        precondition(heard.ethernet.source == view.adapterMAC, "advertisement not from the adapter")
        precondition(heard.source == plan.vip && heard.target == plan.vip, "advertisement of another address")
        precondition(heard.ethernet.tags.isEmpty, "advertisement is tagged")
        precondition(NDPAnswerRules.decide(heard, view: view).plan == nil, "our advertisement heard back is answered")
    }
}
