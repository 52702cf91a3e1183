import Logging
import ProxyARPCore
import ProxyARPStateMachines

/// One managed adapter: holds its health machine and link state, runs the machine's
/// actions (telling the selector, arming the hold-down timer).
public actor AdapterActor {
    /// The adapter's name.
    public nonisolated let name: AdapterName
    private let environment: EngineEnvironment
    private let selector: SelectorActor
    private var machine: AdapterHealthStateMachine
    private var link: LinkState?
    private var holdDownTask: Task<Void, Never>?
    private var lastHeardBySibling: Instant?

    /// Creates the actor with its machine in `down(unknown)`.
    public init(name: AdapterName, settings: AdapterHealthSettings, environment: EngineEnvironment, selector: SelectorActor) {
        self.name = name
        self.environment = environment
        self.selector = selector
        let now = environment.clock.now()
        self.machine = AdapterHealthStateMachine(adapter: name, settings: settings, now: now)
        environment.trace.record(
            .adapter(name), event: .adapterCreated(settings), at: now, from: "-",
            to: machine.state.description, action: "none"
        )
    }

    /// rtnetlink reported the link.
    public func linkChanged(_ state: LinkState) async {
        let wasUp = (link?.adminUp ?? false) && (link?.carrier ?? false)
        let changed = link?.interfaces != state.interfaces || link?.mac != state.mac
            || wasUp != (state.adminUp && state.carrier)
        link = state
        if changed { await selector.candidateChanged(candidate) }
        await deliver(.linkChanged(adminUp: state.adminUp, carrier: state.carrier, now: environment.clock.now()))
    }

    /// The link disappeared.
    public func linkRemoved() async {
        await deliver(.linkRemoved(now: environment.clock.now()))
        await selector.candidateRemoved(name)
    }

    /// A frame could not be sent on this adapter.
    public func transmitFailed() async {
        await deliver(.transmitFailed(now: environment.clock.now()))
    }

    /// A frame was sent; only streak resets are traced.
    public func transmitSucceeded() async {
        guard case .eligible(let eligible) = machine.state, eligible.transmitErrors > 0 else { return }
        await deliver(.transmitSucceeded(now: environment.clock.now()))
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
        await deliver(.announcementsUnconfirmed(now: environment.clock.now()))
        return true
    }

    /// The adapter as `status` shows it.
    public func status(vipCount: Int) -> AdapterStatus {
        AdapterStatus(
            name: name, state: machine.state.description, eligible: machine.isEligible,
            carrier: link?.carrier ?? false, adminUp: link?.adminUp ?? false, mac: link?.mac, vipCount: vipCount
        )
    }

    private var candidate: AgentCandidate {
        AgentCandidate(
            name: name, mac: link?.mac ?? .zero, interfaces: link?.interfaces ?? [], eligible: machine.isEligible,
            linkUp: (link?.adminUp ?? false) && (link?.carrier ?? false)
        )
    }

    private func deliver(_ event: AdapterHealthEvent) async {
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
            await selector.candidateChanged(candidate)
            return
        }
        environment.trace.record(
            .adapter(name), event: .adapter(event), at: environment.clock.now(), from: from,
            to: machine.state.description, action: action.description
        )
        await run(action)
    }

    private func run(_ action: AdapterHealthStateMachine.Action) async {
        switch action {
        case .none:
            return
        case .becameEligible:
            environment.logger.info("adapter eligible", metadata: ["adapter": "\(name)"])
            await selector.candidateChanged(candidate)
        case .becameIneligible(let reason):
            environment.logger.info("adapter ineligible", metadata: ["adapter": "\(name)", "reason": "\(reason.rawValue)"])
            await selector.candidateChanged(candidate)
        case .holdDown(let timer, let ineligible):
            scheduleHoldDown(timer)
            if let ineligible {
                environment.logger.info(
                    "adapter ineligible",
                    metadata: ["adapter": "\(name)", "reason": "\(ineligible.rawValue)", "holdDownUntil": "\(timer.deadline.nanoseconds)"]
                )
                await selector.candidateChanged(candidate)
            }
        }
    }

    private func scheduleHoldDown(_ timer: AdapterHealthStateMachine.HoldDownTimer) {
        holdDownTask?.cancel()
        let clock = environment.clock
        holdDownTask = Task { [weak self] in
            do { try await clock.sleep(until: timer.deadline) } catch { return }
            await self?.holdDownExpired(timer.epoch)
        }
    }

    private func holdDownExpired(_ epoch: UInt64) async {
        await deliver(.holdDownExpired(epoch: epoch, now: environment.clock.now()))
    }
}
