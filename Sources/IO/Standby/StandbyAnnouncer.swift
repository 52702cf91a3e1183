import Logging
import ProxyARPCore
import Synchronization

/// Announces the standby agents of a link that was just lost, from the link monitor's
/// thread, before the control plane has heard of the loss (issue 13: the carrier-loss window).
///
/// It is the ``NetlinkLinkMonitor``'s tap. When a managed link that was up (admin up with
/// carrier) goes down or disappears, it reads the selector's ``StandbyPlan`` for that
/// agent, keeps the VIPs still on the agent's proxy list in the current ``AnswerTable``
/// (a plan may be up to the selector's refresh interval, 100 ms, old), and hands one
/// announcement round per VIP (``AnnouncementFrames``) to each standby adapter's capture
/// thread (``PcapFrameIO/sendDetached(_:on:completion:)``), skipping standbys whose own
/// link is down. No hop through Swift's cooperative pool: the frames leave one thread
/// wake-up after the kernel reported the loss.
///
/// The control plane then runs its failover as usual (it selects the same agents: the plan
/// is its own choice, made ahead), publishes, binds, and announces its own rounds; the
/// cluster fence gates these frames as it gates every announcement.
public final class StandbyAnnouncer: Sendable {
    private let io: PcapFrameIO
    private let logger: Logger
    /// Whether each link was up (admin up and carrier) at its last event.
    private let linksUp = Mutex<[AdapterName: Bool]>([:])
    private let announced = Atomic<Int>(0)

    /// Creates the announcer of `io`'s adapters.
    public init(io: PcapFrameIO, logger: Logger) {
        self.io = io
        self.logger = logger
    }

    /// VIPs announced ahead of the control plane since start (one per VIP and link loss).
    public var announcedVIPs: Int { announced.load(ordering: .relaxed) }

    /// The link monitor's tap: notes each link's state and, when an up link went down or
    /// disappeared, announces its standby agents.
    public func linkEvent(_ event: LinkEvent) {
        let lost: AdapterName? = linksUp.withLock { up in
            switch event {
            case .changed(let state):
                let isUp = state.adminUp && state.carrier
                defer { up[state.name] = isUp }
                return up[state.name] == true && !isUp ? state.name : nil
            case .removed(let name):
                defer { up[name] = nil }
                return up[name] == true ? name : nil
            }
        }
        if let lost { announceStandbys(of: lost) }
    }

    /// Announces, per standby of `lost` whose link is up, the planned VIPs still on `lost`'s list.
    private func announceStandbys(of lost: AdapterName) {
        let readAt = MonotonicClock.wallNanoseconds()
        guard let moves = io.answerTable.standbys.current.moves[lost], !moves.isEmpty else { return }
        let table = io.answerTable.current
        let up = linksUp.withLock { $0 }
        var handed: [(standby: AdapterName, vips: Int)] = []
        for move in moves where up[move.standby] == true {
            let vips = move.vips.filter { table.serves($0, on: lost) }
            guard !vips.isEmpty else { continue }
            let frames = vips.flatMap { AnnouncementFrames.round(of: $0, mac: move.mac) }
            let (logger, standby, count) = (logger, move.standby, vips.count)
            let accepted = io.sendDetached(frames, on: standby) { outcome in
                switch outcome {
                case .success:
                    logger.info(
                        "standby agent announced ahead of the control plane",
                        metadata: [
                            "adapter": "\(standby)", "from": "\(lost)", "vips": "\(count)",
                            "sentAtWallNanoseconds": "\(MonotonicClock.wallNanoseconds())",
                        ])
                case .failure(let error):
                    logger.warning(
                        "standby announcement not sent; the control plane's failover announces",
                        metadata: ["adapter": "\(standby)", "from": "\(lost)", "error": "\(error)"])
                }
            }
            if accepted {
                announced.add(count, ordering: .relaxed)
                handed.append((standby, count))
            }
        }
        guard !handed.isEmpty else { return }
        logger.info(
            "link lost: announcing its standby agents",
            metadata: [
                "adapter": "\(lost)", "standbys": "\(handed.map { "\($0.standby)=\($0.vips)" }.joined(separator: ","))",
                "readAtWallNanoseconds": "\(readAt)",
            ])
    }
}
