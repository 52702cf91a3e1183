import Logging
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
public final class PcapFrameIO: FrameIO {
    private enum Phase { case opened, started, stopped }
    private struct State {
        var phase = Phase.opened
        /// Sends between their phase check and their return: shutdown waits for them, so
        /// no send hops onto an executor whose thread is already joined.
        var sendsInFlight = 0
    }

    /// Where the engine publishes answer tables.
    public let answerTable: AnswerTablePublisher
    /// The managed adapters, in name order.
    public let adapterNames: [AdapterName]
    private let adapters: [AdapterName: AdapterIO]
    private let buffer: ObservationBuffer
    private let vipReplies: VIPReplyCounts
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
        logger: Logger = Logger(label: "proxyarpd.io")
    ) throws(PcapError) {
        let publisher = AnswerTablePublisher()
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
        self.adapters = opened
        self.buffer = buffer
        self.vipReplies = vipReplies
    }

    /// Replies sent per VIP over all adapters, for `status`.
    public func repliesPerVIP() -> [IPv4Address: UInt64] { vipReplies.snapshot }

    /// Begins answering on every adapter. Idempotent.
    public func start() {
        let shouldStart = state.withLock { state in
            guard state.phase == .opened else { return false }
            state.phase = .started
            return true
        }
        guard shouldStart else { return }
        for name in adapterNames { adapters[name]?.startCapture() }
    }

    /// Stops answering, closes every capture, joins every thread and finishes the
    /// observation stream. Idempotent; sends afterwards throw ``TransmitError``.
    public func shutdown() async {
        let wasRunning = state.withLock { state in
            defer { state.phase = .stopped }
            return state.phase != .stopped
        }
        guard wasRunning else { return }
        // Sends already past their check run on live threads; each takes microseconds.
        // Bounded: 5,000 × 1 ms.
        for _ in 0..<5_000 where state.withLock({ $0.sendsInFlight }) > 0 {
            try? await Task.sleep(for: .milliseconds(1))
        }
        for name in adapterNames {
            guard let adapter = adapters[name] else { continue }
            await adapter.close()
            adapter.executor.shutdown()
        }
        buffer.finish()
    }

    /// Sends `frames` out of `adapter`, in order, on that adapter's thread.
    public func send(_ frames: [[UInt8]], on adapter: AdapterName) async throws(TransmitError) {
        guard let io = adapters[adapter] else {
            throw TransmitError(adapter: adapter, code: .noSuchAdapter, reason: "not a managed adapter")
        }
        let admitted = state.withLock { state in
            guard state.phase != .stopped else { return false }
            state.sendsInFlight += 1
            return true
        }
        guard admitted else { throw TransmitError(adapter: adapter, code: .closed, reason: "frame I/O is shut down") }
        defer { state.withLock { $0.sendsInFlight -= 1 } }
        try await io.send(frames)
    }

    /// The merged observations of all adapters, one element per capture batch that saw
    /// something. The same single-consumer stream on every call.
    public func observations() -> AsyncStream<[HeardObservation]> { buffer.stream }

    /// The MAC of a managed adapter (read at open).
    public func mac(of adapter: AdapterName) -> MACAddress? { adapters[adapter]?.mac }

    /// The MACs of all managed adapters: the `ownMACs` of every ``AnswerTable``.
    public var macs: [AdapterName: MACAddress] { adapters.mapValues(\.mac) }

    /// The counters of one adapter, without a hop.
    public func counters(for adapter: AdapterName) -> AdapterCounterSnapshot? {
        adapters[adapter].map { $0.counters.snapshot(adapter: adapter) }
    }

    /// The counters of every adapter, in name order.
    public func counters() -> [AdapterCounterSnapshot] {
        adapterNames.compactMap { counters(for: $0) }
    }

    /// Observation batches dropped because the engine fell behind.
    public var droppedObservationBatches: UInt64 { buffer.droppedBatches }
    /// Observations in those batches.
    public var droppedObservations: UInt64 { buffer.droppedObservations }
}
