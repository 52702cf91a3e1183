/// Something the NDP answer path saw that the control plane must hear about: the IPv6
/// counterpart of ``ARPObservation``.
public enum NDPObservation: Sendable, Hashable {
    /// An unsolicited advertisement for one of our VIPs from one of our own MACs: the
    /// confirmation that an announcement went out.
    case ownAnnouncement(vip: IPv6Address, mac: MACAddress)
    /// An advertisement (or a solicitation from the VIP as source) from a MAC that is not
    /// ours, claiming one of our VIPs: an address conflict.
    case conflict(vip: IPv6Address, claimedBy: MACAddress)
    /// A Duplicate Address Detection probe (source `::`) for one of our VIPs, defended.
    case probe(vip: IPv6Address, from: MACAddress)

    /// The VIP the observation is about.
    public var vip: IPv6Address {
        switch self {
        case .ownAnnouncement(let vip, _), .conflict(let vip, _), .probe(let vip, _): vip
        }
    }
}

/// What the NDP answer path does with one frame: exactly one of advertise, report, or
/// ignore (the counterpart of ``AnswerDecision``).
public enum NDPDecision: Hashable, Sendable {
    /// Send this advertisement; and, when present, report the observation (a DAD probe
    /// for one of our VIPs is defended and reported).
    case advertise(NDPAdvertisementPlan, observation: NDPObservation?)
    /// Send nothing, but report the observation.
    case observe(NDPObservation)
    /// Send and report nothing; count the reason.
    case ignore(IgnoreReason)

    /// The advertisement to send, if any.
    public var plan: NDPAdvertisementPlan? {
        if case .advertise(let plan, _) = self { return plan }
        return nil
    }

    /// The observation to report, if any.
    public var observation: NDPObservation? {
        switch self {
        case .advertise(_, let observation): observation
        case .observe(let observation): observation
        case .ignore: nil
        }
    }
}
