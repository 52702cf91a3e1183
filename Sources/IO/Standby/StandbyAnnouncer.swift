import Logging
import ProxyARPCore
import Synchronization

/// Announces the standby agents of a link that was just lost, from the link monitor's
/// thread, before the control plane has heard of the loss (issue 13: the carrier-loss window).
///
/// It is the ``NetlinkLinkMonitor``'s tap. When a managed link that was up (admin up with
/// carrier) goes down or disappears, it reads the selector's ``StandbyPlan`` for that
/// agent, keeps the VIPs still on the agent's proxy list in the current ``AnswerTable``
/// (a plan may be up to the selector's refresh interval, 100 ms, old), and sends one
/// announcement round per VIP (``AnnouncementFrames``) out of each standby adapter whose
/// own link is up. It sends them itself, on the link monitor's thread, through a
/// send-only packet socket (``PacketSender``): no hop through Swift's cooperative pool and
/// no other thread to wake, so the frames leave within microseconds of the kernel's report.
/// Without that socket (no `CAP_NET_RAW`) it hands them to the standby's capture thread
/// instead (``PcapFrameIO/sendDetached(_:on:completion:)``), one wake-up later.
///
/// The control plane then runs its failover as usual (it selects the same agents: the plan
/// is its own choice, made ahead), publishes, binds, and announces its own rounds; the
/// cluster fence gates these frames as it gates every announcement.
public final class StandbyAnnouncer: Sendable {
    private struct Link {
        var index: Int32
        var up: Bool
    }

    private let io: PcapFrameIO
    private let logger: Logger
    private let sender: PacketSender?
    /// Each managed link's interface index and whether it was up (admin up and carrier) at its last event.
    private let links = Mutex<[AdapterName: Link]>([:])
    private let announced = Atomic<Int>(0)

    /// Creates the announcer of `io`'s adapters. With `sendsDirectly` (the default) it opens
    /// its packet socket now, while the daemon is still privileged; when that fails, or
    /// without `sendsDirectly`, the capture threads send.
    public init(io: PcapFrameIO, sendsDirectly: Bool = true, logger: Logger) {
        self.io = io
        self.logger = logger
        switch sendsDirectly ? PacketSender.open() : nil {
        case .success(let sender):
            self.sender = sender
        case .failure(let error):
            logger.warning(
                "standby announcements go through the capture threads: no packet socket for the link thread",
                metadata: ["reason": "\(error.reason)"])
            self.sender = nil
        case nil:
            self.sender = nil
        }
    }

    /// VIPs announced ahead of the control plane since start (one per VIP and link loss).
    public var announcedVIPs: Int { announced.load(ordering: .relaxed) }

    /// The link monitor's tap: notes each link's index and state and, when an up link went
    /// down or disappeared, announces its standby agents.
    public func linkEvent(_ event: LinkEvent) {
        let lost: AdapterName? = links.withLock { links in
            switch event {
            case .changed(let state):
                let isUp = state.adminUp && state.carrier
                defer { links[state.name] = Link(index: state.index, up: isUp) }
                return links[state.name]?.up == true && !isUp ? state.name : nil
            case .removed(let name):
                defer { links[name] = nil }
                return links[name]?.up == true ? name : nil
            }
        }
        if let lost { announceStandbys(of: lost) }
    }

    /// Announces, per standby of `lost` whose link is up, the planned VIPs still on `lost`'s list.
    private func announceStandbys(of lost: AdapterName) {
        let readAt = MonotonicClock.wallNanoseconds()
        guard let moves = io.answerTable.standbys.current.moves[lost], !moves.isEmpty else { return }
        let table = io.answerTable.current
        let links = links.withLock { $0 }
        var handed: [String] = []
        for move in moves {
            guard let link = links[move.standby], link.up else { continue }
            let vips = move.vips.filter { table.serves($0, on: lost) }
            guard !vips.isEmpty else { continue }
            let frames = vips.flatMap { AnnouncementFrames.round(of: $0, mac: move.mac) }
            if let sender {
                guard send(frames, through: sender, on: move.standby, index: link.index, from: lost, vips: vips.count) else { continue }
            } else {
                guard handOff(frames, on: move.standby, from: lost, vips: vips.count) else { continue }
            }
            announced.add(vips.count, ordering: .relaxed)
            handed.append("\(move.standby)=\(vips.count)")
        }
        guard !handed.isEmpty else { return }
        logger.info(
            "link lost: announced its standby agents",
            metadata: [
                "adapter": "\(lost)", "standbys": "\(handed.joined(separator: ","))", "readAtWallNanoseconds": "\(readAt)",
                "viaCaptureThread": "\(sender == nil)",
            ])
    }

    /// Sends on this thread; true when every frame left (the cluster fence may hold them back).
    private func send(
        _ frames: [[UInt8]], through sender: PacketSender, on standby: AdapterName, index: Int32, from lost: AdapterName, vips: Int
    ) -> Bool {
        let fence = io.answerTable.fence
        guard fence.allows(nowNanoseconds: MonotonicClock.now().nanoseconds) else {
            fence.countFenced()
            return false
        }
        do throws(TransmitError) {
            try sender.send(frames, index: index, adapter: standby)
        } catch {
            io.countControlFrames(sent: 0, refused: true, on: standby)
            Self.logRefusal(error, standby: standby, from: lost, logger: logger)
            return false
        }
        io.countControlFrames(sent: frames.count, refused: false, on: standby)
        Self.logSent(standby: standby, from: lost, vips: vips, logger: logger)
        return true
    }

    /// Hands the frames to the standby's capture thread; true when it took them.
    private func handOff(_ frames: [[UInt8]], on standby: AdapterName, from lost: AdapterName, vips: Int) -> Bool {
        let logger = self.logger
        return io.sendDetached(frames, on: standby) { outcome in
            switch outcome {
            case .success: Self.logSent(standby: standby, from: lost, vips: vips, logger: logger)
            case .failure(let error): Self.logRefusal(error, standby: standby, from: lost, logger: logger)
            }
        }
    }

    private static func logSent(standby: AdapterName, from lost: AdapterName, vips: Int, logger: Logger) {
        logger.info(
            "standby agent announced ahead of the control plane",
            metadata: [
                "adapter": "\(standby)", "from": "\(lost)", "vips": "\(vips)",
                "sentAtWallNanoseconds": "\(MonotonicClock.wallNanoseconds())",
            ])
    }

    private static func logRefusal(_ error: TransmitError, standby: AdapterName, from lost: AdapterName, logger: Logger) {
        logger.warning(
            "standby announcement not sent; the control plane's failover announces",
            metadata: ["adapter": "\(standby)", "from": "\(lost)", "error": "\(error)"])
    }
}
