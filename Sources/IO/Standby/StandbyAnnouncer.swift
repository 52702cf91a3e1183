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
        Self.rehearse()
    }

    /// Runs the announcement's code once on sample data, sending nothing: the first failover
    /// would otherwise pay for the first run of each generic path (metadata, conformance
    /// look-ups), measured in the IPv6 end-to-end test at about 100 µs between reading the
    /// loss and sending, while the client still sends to the lost MAC.
    private static func rehearse() {
        let (lost, standby): (AdapterName, AdapterName) = ("rehearsal-lost", "rehearsal-standby")
        let mac = MACAddress(0x02, 0, 0, 0, 0, 0)
        let (v4, v6) = (IPv4Address(192, 0, 2, 1), IPv6Address("2001:db8::1")!)
        let table = AnswerTable(
            generation: 1, proxyLists: [lost: ProxyList(agentMAC: mac, vips: [v4])], watchedVIPs: [v4], ownMACs: [mac],
            ipv6: IPv6AnswerTable(proxyLists: [lost: [v6]], watchedVIPs: [v6]))
        let plan = StandbyPlan(generation: 1, moves: [lost: [StandbyPlan.Move(standby: standby, mac: mac, vips: [.v4(v4), .v6(v6)])]])
        let rounds = announcements(for: lost, plan: plan, table: table, links: [standby: Link(index: 1, up: true)])
        precondition(rounds.map(\.frames.count) == [3], "one IPv4 round is two frames, one IPv6 round one")
    }

    /// One standby's share of a link loss: the frames to send out of it.
    private struct Round {
        var standby: AdapterName
        var index: Int32
        var vips: Int
        var frames: [[UInt8]]
    }

    /// Per standby of `lost` in `plan` whose link is up, one announcement round for each planned
    /// VIP still on `lost`'s proxy list in `table`.
    private static func announcements(
        for lost: AdapterName, plan: StandbyPlan, table: AnswerTable, links: [AdapterName: Link]
    ) -> [Round] {
        var rounds: [Round] = []
        for move in plan.moves[lost] ?? [] {
            guard let link = links[move.standby], link.up else { continue }
            let vips = move.vips.filter { table.serves($0, on: lost) }
            guard !vips.isEmpty else { continue }
            let frames = vips.flatMap { AnnouncementFrames.round(of: $0, mac: move.mac) }
            rounds.append(Round(standby: move.standby, index: link.index, vips: vips.count, frames: frames))
        }
        return rounds
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
        let begunAt = MonotonicClock.wallNanoseconds()
        let (plan, table) = (io.answerTable.standbys.current, io.answerTable.current)
        let rounds = Self.announcements(for: lost, plan: plan, table: table, links: links.withLock { $0 })
        var handed: [(round: Round, sentAt: Int64)] = []
        for round in rounds {
            if let sender {
                guard send(round.frames, vips: round.vips, through: sender, on: round.standby, index: round.index, from: lost) else {
                    continue
                }
            } else {
                guard handOff(round.frames, on: round.standby, from: lost, vips: round.vips) else { continue }
            }
            announced.add(round.vips, ordering: .relaxed)
            handed.append((round, MonotonicClock.wallNanoseconds()))
        }
        // Logged once every standby's frames are out.
        if sender != nil {
            for sent in handed { Self.logSent(standby: sent.round.standby, from: lost, vips: sent.round.vips, at: sent.sentAt, logger: logger) }
        }
        guard !handed.isEmpty else { return }
        logger.info(
            "link lost: announced its standby agents",
            metadata: [
                "adapter": "\(lost)", "standbys": "\(handed.map { "\($0.round.standby)=\($0.round.vips)" }.joined(separator: ","))",
                "begunAtWallNanoseconds": "\(begunAt)", "viaCaptureThread": "\(sender == nil)",
                "planGeneration": "\(plan.generation)", "tableGeneration": "\(table.generation)",
            ])
    }

    /// Sends on this thread; true when every frame left (the cluster fence may hold them back).
    private func send(
        _ frames: [[UInt8]], vips: Int, through sender: PacketSender, on standby: AdapterName, index: Int32, from lost: AdapterName
    ) -> Bool {
        guard io.answerTable.fence.admitsAnnouncement(nowNanoseconds: MonotonicClock.now().nanoseconds) else { return false }
        do throws(TransmitError) {
            try sender.send(frames, index: index, adapter: standby)
        } catch {
            io.countStandbyAnnouncement(vips: 0, refused: true, on: standby)
            Self.logRefusal(error, standby: standby, from: lost, logger: logger)
            return false
        }
        io.countStandbyAnnouncement(vips: vips, framesSent: frames.count, on: standby)
        return true
    }

    /// Hands the frames to the standby's capture thread; true when it took them.
    private func handOff(_ frames: [[UInt8]], on standby: AdapterName, from lost: AdapterName, vips: Int) -> Bool {
        let (logger, io) = (self.logger, self.io)
        return io.sendDetached(frames, on: standby) { outcome in
            switch outcome {
            case .success:
                io.countStandbyAnnouncement(vips: vips, on: standby)
                Self.logSent(standby: standby, from: lost, vips: vips, at: MonotonicClock.wallNanoseconds(), logger: logger)
            case .failure(let error): Self.logRefusal(error, standby: standby, from: lost, logger: logger)
            }
        }
    }

    private static func logSent(standby: AdapterName, from lost: AdapterName, vips: Int, at sentAt: Int64, logger: Logger) {
        logger.info(
            "standby agent announced ahead of the control plane",
            metadata: ["adapter": "\(standby)", "from": "\(lost)", "vips": "\(vips)", "sentAtWallNanoseconds": "\(sentAt)"])
    }

    private static func logRefusal(_ error: TransmitError, standby: AdapterName, from lost: AdapterName, logger: Logger) {
        logger.warning(
            "standby announcement not sent; the control plane's failover announces",
            metadata: ["adapter": "\(standby)", "from": "\(lost)", "error": "\(error)"])
    }
}
