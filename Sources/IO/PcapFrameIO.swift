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

    /// Where the engine publishes answer tables.
    public let answerTable: AnswerTablePublisher
    /// The managed adapters, in name order.
    public let adapterNames: [AdapterName]
    private let adapters: [AdapterName: AdapterIO]
    private let buffer: ObservationBuffer
    private let phase = Mutex(Phase.opened)

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
        var opened: [AdapterName: AdapterIO] = [:]
        for name in Set(names).sorted() {
            // On a throw, `opened` is released: each AdapterIO's deinit joins its thread
            // and closes its capture.
            opened[name] = try AdapterIO(
                name: name, answerTable: publisher, observations: buffer, options: options, logger: logger)
        }
        self.answerTable = publisher
        self.adapterNames = opened.keys.sorted()
        self.adapters = opened
        self.buffer = buffer
    }

    /// Begins answering on every adapter. Idempotent.
    public func start() {
        let shouldStart = phase.withLock { phase in
            guard phase == .opened else { return false }
            phase = .started
            return true
        }
        guard shouldStart else { return }
        for name in adapterNames { adapters[name]?.startCapture() }
    }

    /// Stops answering, closes every capture, joins every thread and finishes the
    /// observation stream. Idempotent; sends afterwards throw ``TransmitError``.
    public func shutdown() async {
        let wasRunning = phase.withLock { phase in
            defer { phase = .stopped }
            return phase != .stopped
        }
        guard wasRunning else { return }
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
            throw TransmitError(adapter: adapter, reason: "not a managed adapter")
        }
        guard phase.withLock({ $0 }) != .stopped else {
            throw TransmitError(adapter: adapter, reason: "frame I/O is shut down")
        }
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
