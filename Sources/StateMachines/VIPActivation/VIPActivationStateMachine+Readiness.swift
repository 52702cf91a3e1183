extension VIPActivationStateMachine.State {
    /// True when this state is final for readiness (systemd `READY=1`): the VIP either
    /// answers (`active`), or waits for a reason the selector gave after a selection round
    /// (`pending(noEligibleAdapter)`), or will not change without outside help
    /// (`conflict`, `withdrawn`, `failed`). Every other state is on its way somewhere:
    /// `pending(awaitingSelection)` (no selection yet), `pending(agentLost)` and
    /// `pending(agentUnconfirmed)` (a reselection is under way), `broadcast` and `enqueued`.
    public var isSettled: Bool {
        switch self {
        case .active, .conflict, .withdrawn, .failed: true
        case .pending(let pending):
            switch pending.reason {
            case .noEligibleAdapter: true
            case .awaitingSelection, .agentLost, .agentUnconfirmed: false
            }
        case .broadcast, .enqueued: false
        }
    }
}
