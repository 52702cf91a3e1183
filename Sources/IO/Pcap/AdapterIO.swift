import CPcap
import Logging
import ProxyARPCore

/// The answer path of one managed adapter: an actor whose executor is a dedicated
/// ``ThreadExecutor`` thread, owning the adapter's ``PcapHandle``.
///
/// When the capture polls readable, the executor's loop calls into the actor with
/// `assumeIsolated` (no hop) and one batch runs: the answer table is refreshed once, the
/// adapter's ``AnswerView`` is rebuilt only when the table changed, up to ``batchSize``
/// frames are decided and answered from pcap's buffer (replies written into a buffer
/// allocated once), counters are added once, and the batch's observations are handed to
/// the shared ``ObservationBuffer`` once.
///
/// Control-plane sends (``send(_:)``) run on the same thread, between batches.
public actor AdapterIO {
    /// Frames handled per `pcap_dispatch` call, at most.
    public static let batchSize: Int32 = 256

    /// The adapter.
    public nonisolated let name: AdapterName
    /// The adapter's MAC, read from sysfs at open: the sender of its replies.
    public nonisolated let mac: MACAddress
    /// The answer path's counters, readable without a hop.
    public nonisolated let counters: AdapterCounters
    /// The thread this actor runs on.
    public nonisolated let executor: ThreadExecutor

    /// The actor's executor: its dedicated thread.
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private var handle: PcapHandle?
    private nonisolated let captureDescriptor: Int32
    private var reader: AnswerTableReader
    private var view: AnswerView
    /// `view` with nothing to answer: what a batch uses while the cluster fence is closed.
    /// Built by the first fenced batch after a table change, not at every change: its IPv6
    /// part merges two sets (O(VIPs)), and without cluster mode no batch is ever fenced.
    private var fencedView: AnswerView?
    private let fence: FenceGate
    private let observations: ObservationBuffer
    private let replyBuffer = ReplyBuffer()
    /// The per-VIP reply tally, reused from batch to batch (capacity kept).
    private var replyTally: [IPv4Address: UInt32] = [:]
    /// Where batches merge their per-VIP tallies.
    public nonisolated let vipReplies: VIPReplyCounts
    private let logger: Logger
    /// The capture filter's state (see ``PcapOptions/narrowsFilter``).
    var captureFilter: CaptureFilterState

    /// Opens `name`: reads its MAC, opens the capture and starts the executor thread.
    /// Frames are not read until ``startCapture()``. `counters` carries the tallies of an
    /// earlier capture of the same adapter over (a re-created adapter's counters go on).
    /// - Throws: ``PcapError`` naming the failing step (`read MAC`, a pcap call, or
    ///   `thread` when the executor could not start).
    public init(
        name: AdapterName,
        answerTable: AnswerTablePublisher,
        observations: ObservationBuffer,
        vipReplies: VIPReplyCounts = VIPReplyCounts(),
        options: PcapOptions = PcapOptions(),
        counters: AdapterCounters = AdapterCounters(),
        logger: Logger
    ) throws(PcapError) {
        let device = name.rawValue
        let mac = try InterfaceHardwareAddress.read(device: device)
        let handle = try PcapHandle.openLive(device: device, options: options)
        let executor: ThreadExecutor
        do {
            executor = try ThreadExecutor(name: "pio-\(device)", coalescing: options.coalescing)
        } catch {
            throw PcapError(device: device, operation: "thread", message: error.description)
        }
        self.name = name
        self.vipReplies = vipReplies
        self.mac = mac
        self.counters = counters
        self.executor = executor
        self.captureDescriptor = handle.selectableFileDescriptor
        self.handle = Optional(consume handle)
        let reader = AnswerTableReader(publisher: answerTable)
        self.view = reader.table.view(for: name, mac: mac)
        self.fencedView = nil
        self.fence = answerTable.fence
        self.reader = reader
        self.observations = observations
        var logger = logger
        logger[metadataKey: "adapter"] = "\(device)"
        self.logger = logger
        self.captureFilter = CaptureFilterState(
            publisher: answerTable, filter: options.filter, narrows: options.narrowsFilter,
            snapshotLength: UInt32(options.snapshotLength), quietPeriod: options.filterQuietPeriod)
    }

    deinit {
        if let token = captureFilter.observer { captureFilter.publisher.removeObserver(token) }
        // Stop the thread before the handle (a stored property) is closed after this body.
        executor.shutdown()
    }

    /// Starts answering: the executor polls the capture and runs a batch whenever it is
    /// readable.
    public nonisolated func startCapture() {
        executor.setReadableSource(descriptor: captureDescriptor) { [weak self] in
            guard let self else { return .handled(0) }
            return self.assumeIsolated { $0.readBatch() }
        }
        Task { await self.observeAnswerTable() }
    }

    /// Runs one capture batch: how many frames it handled, or failed when `pcap_dispatch` did.
    func readBatch() -> ThreadExecutor.ReadableOutcome {
        guard let pcap = handle?.raw else { return .handled(0) }
        if reader.refresh() {
            view = reader.table.view(for: name, mac: mac)
            fencedView = nil
        }
        var scratch: [IPv4Address: UInt32] = [:]
        swap(&scratch, &replyTally)
        let now = MonotonicClock.now()
        let allowed = fence.allows(nowNanoseconds: now.nanoseconds)
        var batchView = view
        if !allowed {
            fence.countFenced()
            batchView = fencedView ?? Self.fenced(view)
            fencedView = batchView
        }
        var batch = CaptureBatch(
            pcap: pcap, view: batchView, reply: replyBuffer.bytes, adapter: name, now: now,
            repliesByVIP: consume scratch)
        let status = withUnsafeMutablePointer(to: &batch) { pointer in
            pcap_dispatch(pcap, Self.batchSize, CaptureBatch.callback, UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: UInt8.self))
        }
        counters.record(batch)
        batch.recordNeighborDiscoveryObservations()
        vipReplies.merge(batch.kernel.repliesByVIP)
        swap(&replyTally, &batch.kernel.repliesByVIP)
        replyTally.removeAll(keepingCapacity: true)
        observations.deliver(batch.observations)
        guard status >= 0 else {
            let errors = counters.captureErrors.add(1, ordering: .relaxed).newValue
            if errors.nonzeroBitCount == 1 {  // 1, 2, 4, 8...: a failing capture does not flood the log
                logger.warning("capture failed", metadata: ["error": "\(handle?.lastError ?? "")", "count": "\(errors)"])
            }
            return .failed
        }
        return .handled(batch.kernel.frames)
    }

    /// Sends `frames` in order (the control plane's gratuitous ARPs).
    /// - Throws: ``TransmitError`` `.refused` with libpcap's message at the first frame
    ///   refused, or `.closed` when the capture is closed.
    public func send(_ frames: [[UInt8]]) throws(TransmitError) {
        // Cluster fence closed: announce nothing.
        guard fence.admitsAnnouncement(nowNanoseconds: MonotonicClock.now().nanoseconds) else { return }
        for frame in frames {
            let failure = frame.withUnsafeBytes { (bytes) -> TransmitError? in
                guard handle != nil else { return TransmitError(adapter: name, code: .closed, reason: "capture closed") }
                do throws(PcapError) {
                    try handle?.inject(bytes)
                    return nil
                } catch {
                    return TransmitError(adapter: name, code: .refused, reason: error.message)
                }
            }
            if let failure {
                counters.controlSendErrors.wrappingAdd(1, ordering: .relaxed)
                throw failure
            }
            counters.controlFramesSent.wrappingAdd(1, ordering: .relaxed)
        }
    }

    /// Sends `frames` on the adapter's thread at its next turn, called from any thread
    /// without waiting and without the cooperative pool (the link monitor's thread announces
    /// standby agents this way); `completion` then runs on that thread with the outcome.
    public nonisolated func sendSoon(
        _ frames: [[UInt8]], completion: @escaping @Sendable (Result<Void, TransmitError>) -> Void
    ) {
        executor.execute { [weak self] in
            guard let self else { return }
            self.assumeIsolated { io in
                do throws(TransmitError) {
                    try io.send(frames)
                    completion(.success(()))
                } catch {
                    completion(.failure(error))
                }
            }
        }
    }

    /// `view` answering nothing, still watching (own announcements, conflicts).
    private static func fenced(_ view: AnswerView) -> AnswerView {
        AnswerView(
            adapterMAC: view.adapterMAC, proxyList: AddressSet(), watchedVIPs: view.watchedVIPs, ownMACs: view.ownMACs,
            awaitingConfirmation: view.awaitingConfirmation,
            ipv6: IPv6AnswerSets(
                proxyList: [], watchedVIPs: view.ipv6.watchedVIPs.union(view.ipv6.proxyList),
                awaitingConfirmation: view.ipv6.awaitingConfirmation))
    }

    /// The kernel's capture counters (`pcap_stats`): frames received and dropped for lack
    /// of buffer space. Nil once closed.
    public func kernelStatistics() -> KernelCaptureStatistics? {
        guard let stats = handle?.statistics() else { return nil }
        return KernelCaptureStatistics(received: stats.received, dropped: stats.dropped)
    }

    /// Stops reading and closes the capture (exactly once; later calls do nothing).
    /// The executor thread keeps running until ``ThreadExecutor/shutdown()``.
    public func close() {
        stopObservingAnswerTable()
        executor.clearReadableSource()
        handle = nil
    }

    /// Installs `program` as the capture's filter, or the wide filter expression `wide`
    /// when nil, in one atomic swap. Returns false when the capture is closed; throws the
    /// refusal.
    func installFilter(_ program: CaptureFilterProgram?, wide: String) throws(PcapError) -> Bool {
        guard handle != nil else { return false }
        if let program { try handle?.setFilter(program) } else { try handle?.swapFilter(expression: wide) }
        return true
    }

    /// Rebuilds the answer view when a newer table was published (the batch does the same).
    func refreshView() {
        if reader.refresh() { view = reader.table.view(for: name, mac: mac) }
    }

    /// The table the answer path reads now.
    var currentTable: AnswerTable { reader.table }

    /// The adapter's logger.
    var adapterLogger: Logger { logger }
}

/// The buffer every reply of one adapter is written into: allocated once, freed with the actor.
private final class ReplyBuffer {
    let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: AnswerKernel.replyCapacity, alignment: 8)
    deinit { bytes.deallocate() }
}

/// `pcap_stats` for one capture.
public struct KernelCaptureStatistics: Sendable, Hashable {
    /// Frames the kernel passed the filter.
    public var received: UInt32
    /// Frames dropped because the buffer was full.
    public var dropped: UInt32

    /// Creates statistics.
    public init(received: UInt32, dropped: UInt32) {
        self.received = received
        self.dropped = dropped
    }
}
