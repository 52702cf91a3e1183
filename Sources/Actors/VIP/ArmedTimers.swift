import ProxyARPStateMachines

/// The tokens of one VIP's armed timers, one slot per ``VIPTimerKind``: inline (24 bytes),
/// where a dictionary kept a heap buffer per VIP even when empty. Tokens start at 1;
/// 0 marks an empty slot.
struct ArmedTimers {
    private var confirm: UInt64 = 0
    private var announce: UInt64 = 0
    private var conflict: UInt64 = 0

    /// Nothing armed.
    init() {}

    /// The token of the armed timer of `kind`, if any.
    subscript(kind: VIPTimerKind) -> UInt64? {
        get {
            let token = switch kind {
            case .confirm: confirm
            case .announce: announce
            case .conflict: conflict
            }
            return token == 0 ? nil : token
        }
        set {
            switch kind {
            case .confirm: confirm = newValue ?? 0
            case .announce: announce = newValue ?? 0
            case .conflict: conflict = newValue ?? 0
            }
        }
    }
}
