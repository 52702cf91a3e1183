import ProxyARPStateMachines

/// The tokens of one VIP's armed timers, one slot per ``VIPTimerKind``: inline, where a
/// dictionary kept a heap buffer per VIP even when empty.
struct ArmedTimers {
    private var confirm: UInt64?
    private var announce: UInt64?

    /// Nothing armed.
    init() {}

    /// The token of the armed timer of `kind`, if any.
    subscript(kind: VIPTimerKind) -> UInt64? {
        get {
            switch kind {
            case .confirm: confirm
            case .announce: announce
            }
        }
        set {
            switch kind {
            case .confirm: confirm = newValue
            case .announce: announce = newValue
            }
        }
    }
}
