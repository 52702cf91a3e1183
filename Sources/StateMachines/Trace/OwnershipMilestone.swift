import ProxyARPCore

/// A moment in a cluster unit's ownership, read from its trace records: this host claimed
/// it, took it over from another host, lost it, released it, was fenced or unfenced, or the
/// unit moved between two other hosts. `trace show` and the timeline mark them.
public struct OwnershipMilestone: Sendable, Equatable, CustomStringConvertible {
    /// What happened.
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        /// This host created the key on a unit nobody held before (as far as it knew).
        case claimed
        /// This host created the key after another host's key went (lease expiry or release).
        case takenOver = "taken over"
        /// This host held the unit and no longer does (another host holds it, or nobody).
        case lost
        /// This host deleted its key (stopping, no eligible NIC, reload without the unit).
        case released
        /// This host's fence deadline passed while it held the unit: it stopped answering.
        case fenced
        /// A keepalive was acknowledged again: the held unit is answered again.
        case unfenced
        /// The unit went from one other host to another.
        case ownerChanged = "owner changed"
    }

    /// What happened.
    public var kind: Kind
    /// The unit.
    public var unit: String
    /// The record it was read from.
    public var sequence: UInt64
    /// When.
    public var at: Instant
    /// The owner host after the milestone (nil: nobody).
    public var owner: String?
    /// The owner's fencing token after it (for lost/released/fenced: the token this host held).
    public var token: Int64?
    /// The owner before it, when another host (taken over, owner changed).
    public var previousOwner: String?

    /// `taken over: 198.18.0.64/26 owner lb1 token 9 (from lb2)`.
    public var description: String {
        var text = "\(kind.rawValue): \(unit) owner \(owner ?? "none")"
        if let token { text += " token \(token)" }
        if let previousOwner { text += " (from \(previousOwner))" }
        return text
    }

    /// The milestones in `records` (any order; sorted by sequence), unit by unit.
    public static func derive(_ records: [MachineTraceRecord]) -> [OwnershipMilestone] {
        var milestones: [OwnershipMilestone] = []
        var lastOther: [String: String] = [:]
        for record in records.sorted(by: { $0.sequence < $1.sequence }) {
            guard case .unit(let unit) = record.subject, case .ownership = record.event else { continue }
            let from = OwnershipStateText(record.from)
            let to = OwnershipStateText(record.to)
            func add(_ kind: Kind, owner: String?, token: Int64?, previous: String? = nil) {
                milestones.append(
                    OwnershipMilestone(
                        kind: kind, unit: unit, sequence: record.sequence, at: record.monotonic, owner: owner, token: token,
                        previousOwner: previous))
            }
            switch (from.name, to.name) {
            case ("fenced", "owned"):
                add(.unfenced, owner: to.owner, token: to.token)
            case (let old, "owned") where old != "owned":
                if let previous = lastOther[unit] {
                    add(.takenOver, owner: to.owner, token: to.token, previous: previous)
                } else {
                    add(.claimed, owner: to.owner, token: to.token)
                }
                lastOther[unit] = nil
            case ("owned", "fenced"):
                add(.fenced, owner: from.owner, token: from.token)
            case ("releasing", "unowned"):
                add(.released, owner: to.owner, token: from.token)
            case ("owned", "unowned"), ("fenced", "unowned"):
                add(.lost, owner: to.owner, token: from.token)
            case ("unowned", "unowned"), ("waiting", "unowned"), ("claiming", "unowned"):
                if let old = lastOther[unit], let new = to.owner, old != new {
                    add(.ownerChanged, owner: new, token: to.token, previous: old)
                }
            default:
                break
            }
            if to.name == "unowned", let owner = to.owner { lastOther[unit] = owner }
        }
        return milestones
    }
}

/// An ownership state as a trace writes it (``OwnershipStateMachine/description``), taken
/// apart: `owned(lb1 token 5)` → name `owned`, owner `lb1`, token 5.
public struct OwnershipStateText: Sendable, Equatable {
    /// The state's name (`unowned`, `waiting`, `claiming`, `owned`, `fenced`, `releasing`, `failed`).
    public var name: String
    /// The host the state names as holding the key, if any.
    public var owner: String?
    /// That holder's fencing token, if any.
    public var token: Int64?

    /// Reads `text`; a text in another shape gives its name and no owner.
    public init(_ text: String) {
        name = String(text.prefix { $0 != "(" })
        owner = nil
        token = nil
        guard ["unowned", "owned", "fenced", "releasing"].contains(name), let open = text.firstIndex(of: "("),
            text.hasSuffix(")")
        else { return }
        let inside = text[text.index(after: open)..<text.index(before: text.endIndex)].split(separator: " ")
        guard inside.count >= 3, inside[1] == "token", let token = Int64(inside[2]) else { return }
        owner = String(inside[0])
        self.token = token
    }
}
