import Logging
import ProxyARPXDP
import ProxyARPCore
import Synchronization

/// The real ``FrameIO``: one ``AdapterIO`` (capture, thread, answer path) per managed
/// adapter, the ``AnswerTablePublisher`` they all read, and the merged observation
/// stream the engine consumes.
///
/// Lifecycle: `init` opens every capture (so a missing interface or a permission
/// problem fails at once), ``start()`` begins answering, ``shutdown()`` stops every
/// thread and closes every capture exactly once. Wrap it in a service for a
/// `ServiceGroup`: `start()`, wait for graceful shutdown, `await shutdown()`.
///
/// Adapters come and go at run time: ``closeCapture(on:)`` closes a deleted adapter's
/// capture and ends its thread, ``openCapture(on:)`` opens a re-created one from scratch
/// (MAC read again, a new thread; its counters go on). Both do their blocking work (pcap
/// open, thread join) on a short-lived thread of their own, never on the cooperative pool.
///
/// With a ``FastPath`` (the XDP program), each capture's adapter gets it attached at open,
/// every published table is mirrored into it, and its counters are merged into the
/// adapter's and the VIPs' reply counts. An adapter it cannot attach to is answered by
/// pcap alone (``fastPathFailures`` says why).
public final class PcapFrameIO: FrameIO {
    private enum Phase { case opened, started, stopped }
    private struct State {
        var phase = Phase.opened
        /// The open captures; an adapter whose capture is closed is absent.
        var adapters: [AdapterName: AdapterIO] = [:]
        /// Sends between their phase check and their return, per adapter: shutdown and
        /// ``closeCapture(on:)`` wait for them, so no send hops onto an executor whose
        /// thread is already joined.
        var sendsInFlight: [AdapterName: Int] = [:]
        /// Counters per adapter, kept across a close and reopen.
        var counters: [AdapterName: AdapterCounters] = [:]
        /// Adapters the fast path could not attach to, and why.
        var fastPathFailures: [AdapterName: XDPError] = [:]
    }

    /// Where the engine publishes answer tables.
    public let answerTable: AnswerTablePublisher
    /// The managed adapters, in name order.
    public let adapterNames: [AdapterName]
    private let buffer: ObservationBuffer
    private let vipReplies: VIPReplyCounts
    private let options: PcapOptions
    private let logger: Logger
    /// The fast path below the captures, if any.
    public let fastPath: (any FastPath)?
    /// Why the fast path could not attach, per adapter (those adapters are answered by pcap).
    public var fastPathFailures: [AdapterName: XDPError] { state.withLock { $0.fastPathFailures } }
    private let state = Mutex(State())

    /// Opens a capture on each of `adapters`.
    /// - Parameters:
    ///   - observationCapacity: batches of observations held for the engine before the
    ///     oldest are dropped.
    /// - Throws: ``PcapError`` for the first adapter that cannot be opened; the ones
    ///   already opened are closed and their threads joined.
    public init(
        adapters names: [AdapterName],
        options: PcapOptions = PcapOptions(),
        observationCapacity: Int = 1024,
        fastPath: (any FastPath)? = nil,
        logger: Logger = Logger(label: "proxyarpd.io")
    ) throws(PcapError) {
        var mirror: (@Sendable (AnswerTable) -> Void)?
        if let fastPath { mirror = { table in fastPath.publish(table) } }
        let publisher = AnswerTablePublisher(mirror: mirror)
        let buffer = ObservationBuffer(capacity: observationCapacity)
        let vipReplies = VIPReplyCounts()
        var opened: [AdapterName: AdapterIO] = [:]
        for name in Set(names).sorted() {
            // On a throw, `opened` is released: each AdapterIO's deinit joins its thread
            // and closes its capture.
            opened[name] = try AdapterIO(
                name: name, answerTable: publisher, observations: buffer, vipReplies: vipReplies, options: options,
                logger: logger)
        }
        self.answerTable = publisher
        self.adapterNames = opened.keys.sorted()
        self.buffer = buffer
        self.vipReplies = vipReplies
        self.options = options
        self.logger = logger
        self.fastPath = fastPath
        state.withLock { state in
            state.adapters = opened
            state.counters = opened.mapValues(\.counters)
        }
        for (name, io) in opened.sorted(by: { $0.key < $1.key }) { attachFastPath(on: name, mac: io.mac) }
    }

    /// Attaches the fast path to `adapter`, logging which path answers there and why.
    private func attachFastPath(on adapter: AdapterName, mac: MACAddress) {
        guard let fastPath else { return }
        do throws(XDPError) {
            let mode = try fastPath.attach(adapter: adapter, mac: mac)
            state.withLock { $0.fastPathFailures[adapter] = nil }
            logger.info("answering in xdp", metadata: ["adapter": "\(adapter)", "mode": "\(mode)"])
        } catch {
            state.withLock { $0.fastPathFailures[adapter] = error }
            logger.warning("answering in pcap: xdp did not attach", metadata: ["adapter": "\(adapter)", "reason": "\(error)"])
        }
    }

    /// Replies sent per VIP over all adapters, for `status`.
    public func repliesPerVIP() -> [IPv4Address: UInt64] {
        guard let fastPath else { return vipReplies.snapshot }
        return vipReplies.snapshot.merging(fastPath.repliesPerVIP(), uniquingKeysWith: +)
    }

    /// Begins answering on every adapter. Idempotent.
    public func start() {
        let started = state.withLock { state -> [AdapterIO] in
            guard state.phase == .opened else { return [] }
            state.phase = .started
            return state.adapters.sorted { $0.key < $1.key }.map(\.value)
        }
        for adapter in started { adapter.startCapture() }
    }

    /// Stops answering, closes every capture, joins every thread and finishes the
    /// observation stream. Idempotent; sends afterwards throw ``TransmitError``.
    public func shutdown() async {
        let adapters = state.withLock { state -> [AdapterIO]? in
            guard state.phase != .stopped else { return nil }
            state.phase = .stopped
            defer { state.adapters = [:] }
            return state.adapters.sorted { $0.key < $1.key }.map(\.value)
        }
        guard let adapters else { return }
        for adapter in adapters { await retire(adapter) }
        fastPath?.shutdown()
        buffer.finish()
    }

    /// Opens `adapter`'s capture again from scratch, closing the one still open: a new
    /// ``AdapterIO`` (MAC read again, a new thread), answering at once if the I/O is
    /// started. The pcap open runs on a thread of its own.
    public func openCapture(on adapter: AdapterName) async throws(CaptureError) {
        guard adapterNames.contains(adapter) else { throw CaptureError(adapter: adapter, reason: "not a managed adapter") }
        await closeCapture(on: adapter)
        let counters = state.withLock { $0.counters[adapter] } ?? AdapterCounters()
        let (answerTable, buffer, vipReplies, options, logger) = (answerTable, buffer, vipReplies, options, logger)
        let opened: Result<AdapterIO, PcapError>
        do throws(ThreadError) {
            opened = try await PlatformThread.run(name: "pio-open") {
                Result { () throws(PcapError) -> AdapterIO in
                    try AdapterIO(
                        name: adapter, answerTable: answerTable, observations: buffer, vipReplies: vipReplies,
                        options: options, counters: counters, logger: logger)
                }
            }
        } catch {
            throw CaptureError(adapter: adapter, reason: error.description)
        }
        let io: AdapterIO
        do throws(PcapError) { io = try opened.get() } catch { throw CaptureError(adapter: adapter, reason: error.description) }
        let phase = state.withLock { state -> Phase in
            if state.phase != .stopped { state.adapters[adapter] = io }
            return state.phase
        }
        switch phase {
        case .started: io.startCapture()
        case .opened: break
        case .stopped: await retire(io)  // shut down meanwhile: this capture never runs
        }
        if phase != .stopped { attachFastPath(on: adapter, mac: io.mac) }
        logger.info("capture opened", metadata: ["adapter": "\(adapter)", "mac": "\(io.mac)"])
    }

    /// Closes `adapter`'s capture and ends its thread once the sends already on their way
    /// to it returned; sends from now on throw ``TransmitError`` `.closed`.
    public func closeCapture(on adapter: AdapterName) async {
        guard let io = state.withLock({ $0.adapters.removeValue(forKey: adapter) }) else { return }
        fastPath?.detach(adapter: adapter)
        await retire(io)
        logger.info("capture closed", metadata: ["adapter": "\(adapter)"])
    }

    /// Closes `io`'s capture, waits for its sends in flight (bounded: 5,000 × 1 ms; each
    /// takes microseconds), then joins its thread on a thread of its own.
    private func retire(_ io: AdapterIO) async {
        await io.close()
        for _ in 0..<5_000 where state.withLock({ $0.sendsInFlight[io.name] ?? 0 }) > 0 {
            try? await Task.sleep(for: .milliseconds(1))
        }
        let executor = io.executor
        do throws(ThreadError) {
            try await PlatformThread.run(name: "pio-close") { executor.shutdown() }
        } catch {
            executor.shutdown()  // no thread to spare: join here (the loop ends within a poll)
        }
    }

    /// Sends `frames` out of `adapter`, in order, on that adapter's thread.
    public func send(_ frames: [[UInt8]], on adapter: AdapterName) async throws(TransmitError) {
        guard adapterNames.contains(adapter) else {
            throw TransmitError(adapter: adapter, code: .noSuchAdapter, reason: "not a managed adapter")
        }
        let admitted = state.withLock { state -> Result<AdapterIO, TransmitError> in
            guard state.phase != .stopped else {
                return .failure(TransmitError(adapter: adapter, code: .closed, reason: "frame I/O is shut down"))
            }
            guard let io = state.adapters[adapter] else {
                return .failure(TransmitError(adapter: adapter, code: .closed, reason: "capture closed"))
            }
            state.sendsInFlight[adapter, default: 0] += 1
            return .success(io)
        }
        let io = try admitted.get()
        defer { state.withLock { $0.sendsInFlight[adapter, default: 1] -= 1 } }
        try await io.send(frames)
    }

    /// Sends `frames` out of `adapter` from any thread without waiting: they are handed to
    /// the adapter's capture thread, which sends them at its next turn
    /// (``AdapterIO/sendSoon(_:completion:)``); `completion` runs there with the outcome.
    /// Returns false, and sends nothing, when the adapter's capture is not open and answering.
    public func sendDetached(
        _ frames: [[UInt8]], on adapter: AdapterName,
        completion: @escaping @Sendable (Result<Void, TransmitError>) -> Void = { _ in }
    ) -> Bool {
        guard let io = state.withLock({ $0.phase == .started ? $0.adapters[adapter] : nil }) else { return false }
        io.sendSoon(frames, completion: completion)
        return true
    }

    /// Counts what the ``StandbyAnnouncer`` sent out of `adapter` (a standby): the VIPs it
    /// announced, and, when it sent them itself, the frames (or a refusal), so that the
    /// adapter's counters show every announcement whichever thread sent it.
    func countStandbyAnnouncement(vips: Int, framesSent: Int = 0, refused: Bool = false, on adapter: AdapterName) {
        guard let counters = state.withLock({ $0.counters[adapter] }) else { return }
        counters.standbyAnnouncements.wrappingAdd(UInt64(vips), ordering: .relaxed)
        counters.controlFramesSent.wrappingAdd(UInt64(framesSent), ordering: .relaxed)
        if refused { counters.controlSendErrors.wrappingAdd(1, ordering: .relaxed) }
    }

    /// The merged observations of all adapters, one element per capture batch that saw
    /// something. The same single-consumer stream on every call.
    public func observations() -> AsyncStream<[HeardObservation]> { buffer.stream }

    /// The MAC of a managed adapter whose capture is open (read at open).
    public func mac(of adapter: AdapterName) -> MACAddress? { state.withLock { $0.adapters[adapter]?.mac } }

    /// The capture filter program installed on `adapter` now; nil: the default (wide) filter
    /// or no open capture. For tests and tools.
    public func installedFilter(on adapter: AdapterName) async -> CaptureFilterProgram? {
        guard let io = state.withLock({ $0.adapters[adapter] }) else { return nil }
        return await io.installedFilter
    }

    /// The wide filter expression `adapter` falls back to when not narrowed (it follows the
    /// table: with Neighbor Discovery while there are IPv6 VIPs); nil when its capture is not
    /// open. For tests and tools.
    public func wideFilter(on adapter: AdapterName) async -> String? {
        guard let io = state.withLock({ $0.adapters[adapter] }) else { return nil }
        return await io.wideFilter
    }

    /// The MACs of the managed adapters whose captures are open.
    public var macs: [AdapterName: MACAddress] { state.withLock { $0.adapters.mapValues(\.mac) } }

    /// The counters of one adapter, without a hop (kept while its capture is closed).
    public func counters(for adapter: AdapterName) -> AdapterCounterSnapshot? {
        counters(for: adapter, fastPath: fastPath?.adapterCounts())
    }

    /// The counters of every adapter, in name order (the fast path's read once).
    public func counters() -> [AdapterCounterSnapshot] {
        let fastPathCounts = fastPath?.adapterCounts()
        return adapterNames.compactMap { counters(for: $0, fastPath: fastPathCounts) }
    }

    private func counters(for adapter: AdapterName, fastPath: [AdapterName: FastPathCounts]?) -> AdapterCounterSnapshot? {
        guard var snapshot = state.withLock({ $0.counters[adapter] })?.snapshot(adapter: adapter) else { return nil }
        if let counts = fastPath?[adapter] { snapshot.addFastPath(counts) }
        return snapshot
    }

    /// Observation batches dropped because the engine fell behind.
    public var droppedObservationBatches: UInt64 { buffer.droppedBatches }
    /// Observations in those batches.
    public var droppedObservations: UInt64 { buffer.droppedObservations }
}
