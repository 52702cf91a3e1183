/// What the answer path does with one frame: exactly one of reply, report, or ignore.
public enum AnswerDecision: Hashable, Sendable {
    /// Send this reply; and, when present, hand the observation to the control plane
    /// (a probe for one of our VIPs is answered and reported).
    case reply(ARPReplyPlan, observation: ARPObservation?)
    /// Send nothing, but hand the observation to the control plane.
    case observe(ARPObservation)
    /// Send and report nothing; count the reason.
    case ignore(IgnoreReason)

    /// The reply to send, if any.
    public var replyPlan: ARPReplyPlan? {
        if case .reply(let plan, _) = self { return plan }
        return nil
    }

    /// The observation to report, if any.
    public var observation: ARPObservation? {
        switch self {
        case .reply(_, let observation): observation
        case .observe(let observation): observation
        case .ignore: nil
        }
    }

    /// The reason the frame was ignored, if it was.
    public var ignoreReason: IgnoreReason? {
        if case .ignore(let reason) = self { return reason }
        return nil
    }
}
