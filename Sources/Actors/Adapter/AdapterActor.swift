import Logging
import ProxyARPCore
import ProxyARPStateMachines

/// One managed adapter: holds its health machine and link state, and runs the machine's
/// actions. Every input is fed to the machine first; then the selector is told once,
/// with the adapter's final eligibility, if anything it selects on changed.
public actor AdapterActor {
    /// The adapter's name.
    public nonisolated let name: AdapterName
    private let environment: EngineEnvironment
    private let selector: SelectorActor
    private let timers: EngineTimers
    private var machine: AdapterHealthStateMachine
    private var link: LinkState?
    private var holdDownToken: UInt64?
    private var lastHeardBySibling: Instant?

    /// Creates the actor with its machine in `down(unknown)`.
    init(
        name: AdapterName, settings: AdapterHealthSettings, environment: EngineEnvironment, selector: SelectorActor,
        timers: EngineTimers
    ) {
        self.name = name
        self.environment = environment
        self.selector = selector
        self.timers = timers
        let now = environment.clock.now()
        self.machine = AdapterHealthStateMachine(adapter: name, settings: settings, now: now)
        environment.trace.record(
            .adapter(name), event: .adapterCreated(settings), at: now, from: "-",
            to: machine.state.description, action: "none"
        )
    }

    /// rtnetlink reported the link.
    public func linkChanged(_ state: LinkState) async {
        let before = candidate
        link = state
        deliver(.linkChanged(adminUp: state.adminUp, carrier: state.carrier, now: environment.clock.now()))
        let after = candidate
        if after != before { await selector.candidateChanged(after) }
    }

    /// The link disappeared: its state is forgotten (a re-created link is reported afresh).
    public func linkRemoved() async {
        link = nil
        deliver(.linkRemoved(now: environment.clock.now()))
        await selector.candidateRemoved(name)
    }

    /// A frame could not be sent on this adapter.
    public func transmitFailed() async {
        await feed(.transmitFailed(now: environment.clock.now()))
    }

    /// A frame was sent; only streak resets are traced.
    public func transmitSucceeded() async {
        guard case .eligible(let eligible) = machine.state, eligible.transmitErrors > 0 else { return }
        await feed(.transmitSucceeded(now: environment.clock.now()))
    }

    /// A sibling's capture heard a frame this adapter sent: it is not cut off.
    public func heardBySibling(at time: Instant) {
        if lastHeardBySibling.map({ $0 < time }) ?? true { lastHeardBySibling = time }
    }

    /// A VIP's announcements through this adapter, first sent at `since`, were never heard.
    /// When a sibling heard *other* frames from this adapter after `since`, the adapter is
    /// not cut off (that one VIP's frames were late or lost under load): its health stays
    /// as it is and only the VIP picks another agent. Returns whether the adapter was
    /// reported unusable.
    @discardableResult
    public func announcementsUnconfirmed(since: Instant) async -> Bool {
        if let heard = lastHeardBySibling, heard >= since {
            environment.logger.debug(
                "unconfirmed announcement, but the adapter is heard on its segment: health unchanged",
                metadata: ["adapter": "\(name)"]
            )
            return false
        }
        let now = environment.clock.now()
        environment.logger.info(
            "announcements unconfirmed and no sibling heard this adapter since the attempt began",
            metadata: [
                "adapter": "\(name)", "attemptStarted": "\(now.duration(since: since))",
                "lastHeardBySibling": "\(lastHeardBySibling.map { "\(now.duration(since: $0))" } ?? "never")",
            ]
        )
        await feed(.announcementsUnconfirmed(now: now))
        return true
    }

    /// Whether the adapter's link is usable (see ``AdapterHealthStateMachine/hasUsableLink``).
    public var hasUsableLink: Bool { machine.hasUsableLink }

    /// The hold-down timer `token` of attempt `epoch` came due.
    func holdDownExpired(epoch: UInt64, token: UInt64) async {
        guard holdDownToken == token else { return }
        holdDownToken = nil
        await feed(.holdDownExpired(epoch: epoch, now: environment.clock.now()))
    }

    /// The adapter as `status` shows it.
    public func status(vipCount: Int) -> AdapterStatus {
        let state: String
        if case .holdDown(let hold) = machine.state {
            // A duration, not the raw monotonic deadline (issue 11, failure 8).
            let left = max(0, hold.until.nanoseconds - environment.clock.now().nanoseconds)
            // A last resort that serves VIPs says so: held down, but answering.
            let serving = machine.lastResortUntil != nil && vipCount > 0 ? ", serving as last resort" : ""
            state = "holdDown(\(hold.cause.rawValue), eligible in \(DurationDisplay.text(nanoseconds: left))\(serving))"
        } else {
            state = machine.state.description
        }
        return AdapterStatus(
            name: name, state: state, eligible: machine.isEligible,
            carrier: link?.carrier ?? false, adminUp: link?.adminUp ?? false, mac: link?.mac, vipCount: vipCount
        )
    }

    private var candidate: AgentCandidate {
        AgentCandidate(
            name: name, mac: link?.mac ?? .zero, interfaces: link?.interfaces ?? [], ipv6Prefixes: link?.ipv6Prefixes ?? [],
            eligible: machine.isEligible,
            linkUp: (link?.adminUp ?? false) && (link?.carrier ?? false), lastResortUntil: machine.lastResortUntil
        )
    }

    /// Feeds `event` and tells the selector once if the adapter's candidate changed.
    private func feed(_ event: AdapterHealthEvent) async {
        let before = candidate
        deliver(event)
        let after = candidate
        if after != before { await selector.candidateChanged(after) }
    }

    /// Feeds the machine and runs its action (synchronous: the selector is told by the
    /// caller, once).
    private func deliver(_ event: AdapterHealthEvent) {
        let from = machine.state.description
        let action: AdapterHealthStateMachine.Action
        do {
            action = try machine.handle(event)
        } catch {
            environment.trace.record(
                .adapter(name), event: .adapter(event), at: environment.clock.now(), from: from,
                to: machine.state.description, action: "unreachable(\(error.event))"
            )
            environment.logger.error("adapter isolated after an internal error", metadata: ["adapter": "\(name)", "error": "\(error)"])
            return
        }
        environment.trace.record(
            .adapter(name), event: .adapter(event), at: environment.clock.now(), from: from,
            to: machine.state.description, action: action.description
        )
        run(action)
    }

    private func run(_ action: AdapterHealthStateMachine.Action) {
        switch action {
        case .none:
            return
        case .becameEligible:
            environment.logger.info("adapter eligible", metadata: ["adapter": "\(name)"])
        case .becameIneligible(let reason):
            environment.logger.info("adapter ineligible", metadata: ["adapter": "\(name)", "reason": "\(reason.rawValue)"])
        case .holdDown(let timer, let ineligible):
            if let token = holdDownToken { timers.cancel(token) }
            holdDownToken = timers.schedule(.holdDown(name, epoch: timer.epoch), at: timer.deadline)
            if let ineligible {
                let wait = timer.deadline.duration(since: environment.clock.now())
                environment.logger.info(
                    "adapter ineligible",
                    metadata: ["adapter": "\(name)", "reason": "\(ineligible.rawValue)", "holdDown": "\(wait)"]
                )
            }
        }
    }
}
