import ProxyARPCore

/// An event of any of the daemon's machines, as the trace records it.
public enum MachineEvent: Sendable, Equatable, Codable {
    /// A VIP machine was created with these settings (the first record of a VIP).
    case vipCreated(VIPActivationSettings)
    /// An event fed to a VIP machine.
    case vip(VIPActivationEvent)
    /// An adapter machine was created with these settings.
    case adapterCreated(AdapterHealthSettings)
    /// An event fed to an adapter machine.
    case adapter(AdapterHealthEvent)
    /// A call on the agent selection.
    case selection(SelectionEvent)
    /// A cluster unit's ownership machine was created (the first record of a unit).
    case ownershipCreated(OwnershipCreation)
    /// An event fed to a unit's ownership machine.
    case ownership(OwnershipEvent)

    /// The event's name, for filters and the timeline.
    public var name: String {
        switch self {
        case .vipCreated, .adapterCreated, .ownershipCreated: "created"
        case .vip(let event): event.name
        case .adapter(let event): event.name
        case .selection(let event): event.name
        case .ownership(let event): event.name
        }
    }
}

/// A call on ``AgentSelection``, as a value.
public enum SelectionEvent: Sendable, Equatable, Codable {
    /// `candidateChanged(_:)`.
    case candidateChanged(AgentCandidate)
    /// `candidateRemoved(_:)`.
    case candidateRemoved(AdapterName)
    /// `select(_:excluding:previous:)` for a VIP with these settings (`previous`: the agent
    /// found at start; absent in older dumps).
    case select(vip: IPAddress, preferred: [AdapterName], preempt: Bool, excluding: [AdapterName], previous: AdapterName? = nil)
    /// `release(_:)`.
    case release(IPAddress)
    /// `learnSegment(_:heard:)`.
    case learnSegment(listener: AdapterName, speaker: AdapterName)
    /// `setBlockPrefixLength(_:)`: recorded first, so a replay groups VIPs as the daemon did.
    case blockPrefixLength(Int)

    /// The event's name.
    public var name: String {
        switch self {
        case .candidateChanged: "candidateChanged"
        case .candidateRemoved: "candidateRemoved"
        case .select: "select"
        case .release: "release"
        case .learnSegment: "learnSegment"
        case .blockPrefixLength: "blockPrefixLength"
        }
    }
}

/// A trace record of this daemon: `TraceRecord` with the machines' events.
public typealias MachineTraceRecord = TraceRecord<MachineEvent>

extension AgentSelection {
    /// Applies a recorded call and returns the text of its result, as traced.
    public mutating func apply(_ event: SelectionEvent) -> String {
        switch event {
        case .candidateChanged(let candidate):
            candidateChanged(candidate)
            return "none"
        case .candidateRemoved(let name):
            candidateRemoved(name)
            return "none"
        case .select(let vip, let preferred, let preempt, let excluding, let previous):
            let config = VIPConfiguration(address: vip, preferred: preferred, preempt: preempt)
            return select(config, excluding: Set(excluding), previous: previous).description
        case .release(let vip):
            release(vip)
            return "none"
        case .learnSegment(let listener, let speaker):
            learnSegment(listener, heard: speaker)
            return "none"
        case .blockPrefixLength(let prefixLength):
            guard (0...32).contains(prefixLength) else { return "invalid(\(prefixLength))" }
            setBlockPrefixLength(prefixLength)
            return "none"
        }
    }

    /// A one-line summary used as the selection's trace state: assignments per adapter.
    public var summary: String {
        members.keys.sorted().map { "\($0)=\(members[$0]?.count ?? 0)" }.joined(separator: " ")
    }
}
