import ProxyARPCore
import ProxyARPXDP
import Synchronization

/// The answer path's counters for one adapter: atomics, written by the capture thread
/// once per batch and readable from any thread without a hop (metrics, status).
public final class AdapterCounters: Sendable {
    /// Slots for ``IgnoreReason/counterIndex``; must be at least `IgnoreReason.allCases.count`.
    static let ignoreSlots = AnswerKernel.ignoreSlots

    let framesSeen = Atomic<UInt64>(0)
    let requestsSeen = Atomic<UInt64>(0)
    let repliesSent = Atomic<UInt64>(0)
    let injectErrors = Atomic<UInt64>(0)
    let observations = Atomic<UInt64>(0)
    let batches = Atomic<UInt64>(0)
    let largestBatch = Atomic<UInt64>(0)
    let captureErrors = Atomic<UInt64>(0)
    let controlFramesSent = Atomic<UInt64>(0)
    let controlSendErrors = Atomic<UInt64>(0)
    let standbyAnnouncements = Atomic<UInt64>(0)
    private let ignored: InlineArray<32, Atomic<UInt64>>
    /// Batch sizes, bucketed by powers of two: slot `i` counts batches of
    /// `2^(i-1) < frames <= 2^i` (slot 0: one frame). One atomic add per batch.
    private let batchSizes: InlineArray<9, Atomic<UInt64>>

    /// Upper bounds (frames) of the batch-size buckets: 1, 2, 4 ... 256 (``AdapterIO/batchSize``).
    public static let batchSizeBounds: [UInt64] = (0..<9).map { 1 << $0 }

    /// Creates zeroed counters.
    public init() {
        precondition(IgnoreReason.allCases.count <= Self.ignoreSlots, "more ignore reasons than counter slots")
        ignored = InlineArray { _ in Atomic<UInt64>(0) }
        batchSizes = InlineArray { _ in Atomic<UInt64>(0) }
    }

    /// The batch-size slot of a batch of `frames` (at least 1).
    static func batchSizeSlot(_ frames: Int) -> Int {
        guard frames > 1 else { return 0 }
        return min(8, Int.bitWidth - (frames - 1).leadingZeroBitCount)
    }

    /// Adds one batch's tallies (called by the capture thread at the end of a batch).
    func record(_ batch: borrowing CaptureBatch) {
        guard batch.kernel.frames > 0 else { return }
        batches.wrappingAdd(1, ordering: .relaxed)
        framesSeen.wrappingAdd(UInt64(batch.kernel.frames), ordering: .relaxed)
        _ = largestBatch.max(UInt64(batch.kernel.frames), ordering: .relaxed)
        batchSizes[Self.batchSizeSlot(Int(batch.kernel.frames))].wrappingAdd(1, ordering: .relaxed)
        if batch.kernel.requests > 0 { requestsSeen.wrappingAdd(UInt64(batch.kernel.requests), ordering: .relaxed) }
        if batch.kernel.replies > 0 { repliesSent.wrappingAdd(UInt64(batch.kernel.replies), ordering: .relaxed) }
        if batch.kernel.sendErrors > 0 { injectErrors.wrappingAdd(UInt64(batch.kernel.sendErrors), ordering: .relaxed) }
        if !batch.observations.isEmpty {
            observations.wrappingAdd(UInt64(batch.observations.count), ordering: .relaxed)
        }
        if !batch.kernel.ndpObservations.isEmpty {
            observations.wrappingAdd(UInt64(batch.kernel.ndpObservations.count), ordering: .relaxed)
        }
        for index in 0..<Self.ignoreSlots where batch.kernel.ignored[index] > 0 {
            ignored[index].wrappingAdd(UInt64(batch.kernel.ignored[index]), ordering: .relaxed)
        }
    }

    /// The current values, for `adapter`.
    public func snapshot(adapter: AdapterName) -> AdapterCounterSnapshot {
        var byReason: [IgnoreReason: UInt64] = [:]
        for reason in IgnoreReason.allCases {
            byReason[reason] = ignored[reason.counterIndex].load(ordering: .relaxed)
        }
        return AdapterCounterSnapshot(
            adapter: adapter,
            framesSeen: framesSeen.load(ordering: .relaxed),
            requestsSeen: requestsSeen.load(ordering: .relaxed),
            repliesSent: repliesSent.load(ordering: .relaxed),
            injectErrors: injectErrors.load(ordering: .relaxed),
            observations: observations.load(ordering: .relaxed),
            batches: batches.load(ordering: .relaxed),
            largestBatch: largestBatch.load(ordering: .relaxed),
            captureErrors: captureErrors.load(ordering: .relaxed),
            controlFramesSent: controlFramesSent.load(ordering: .relaxed),
            controlSendErrors: controlSendErrors.load(ordering: .relaxed),
            ignored: byReason,
            batchSizeCounts: (0..<9).map { batchSizes[$0].load(ordering: .relaxed) },
            standbyAnnouncements: standbyAnnouncements.load(ordering: .relaxed)
        )
    }
}

/// One adapter's answer-path counters at one moment: for metrics and `status`.
public struct AdapterCounterSnapshot: Sendable, Hashable {
    /// The adapter.
    public var adapter: AdapterName
    /// Frames the capture delivered (after the BPF filter).
    public var framesSeen: UInt64
    /// ARP requests among them (opcode 1: requests, probes, gratuitous requests).
    public var requestsSeen: UInt64
    /// Replies injected successfully.
    public var repliesSent: UInt64
    /// Replies `pcap_inject` refused.
    public var injectErrors: UInt64
    /// Observations handed to the control plane.
    public var observations: UInt64
    /// Non-empty capture batches.
    public var batches: UInt64
    /// The most frames seen in one batch (at most ``AdapterIO/batchSize``).
    public var largestBatch: UInt64
    /// `pcap_dispatch` failures.
    public var captureErrors: UInt64
    /// Control-plane frames (gratuitous ARPs) sent through ``AdapterIO/send(_:)``.
    public var controlFramesSent: UInt64
    /// Control-plane frames refused.
    public var controlSendErrors: UInt64
    /// Frames neither answered nor reported, by reason (every reason present, zeros included).
    public var ignored: [IgnoreReason: UInt64]
    /// Non-empty batches per size bucket (not cumulative), bounds in
    /// ``AdapterCounters/batchSizeBounds``.
    public var batchSizeCounts: [UInt64]
    /// VIPs announced out of this adapter by the link monitor's thread, as the standby of a
    /// lost agent (``StandbyAnnouncer``), ahead of the control plane's failover.
    public var standbyAnnouncements: UInt64 = 0
    /// Replies the XDP fast path sent (included in ``repliesSent`` and ``requestsSeen``).
    public var fastPathReplies: UInt64 = 0
    /// Plain requests for a VIP another adapter answers, dropped by the XDP fast path
    /// (included in ``requestsSeen``).
    public var fastPathDropped: UInt64 = 0

    /// Adds the XDP fast path's counts: its replies and drops are requests the capture never saw.
    public mutating func addFastPath(_ counts: FastPathCounts) {
        fastPathReplies = counts.replies
        fastPathDropped = counts.dropped
        repliesSent &+= counts.replies
        requestsSeen &+= counts.replies &+ counts.dropped
    }

    /// Mean frames per non-empty batch (0 before the first batch).
    public var meanFramesPerBatch: Double { batches == 0 ? 0 : Double(framesSeen) / Double(batches) }

    /// Creates a snapshot.
    public init(
        adapter: AdapterName,
        framesSeen: UInt64 = 0,
        requestsSeen: UInt64 = 0,
        repliesSent: UInt64 = 0,
        injectErrors: UInt64 = 0,
        observations: UInt64 = 0,
        batches: UInt64 = 0,
        largestBatch: UInt64 = 0,
        captureErrors: UInt64 = 0,
        controlFramesSent: UInt64 = 0,
        controlSendErrors: UInt64 = 0,
        ignored: [IgnoreReason: UInt64] = [:],
        batchSizeCounts: [UInt64] = [],
        standbyAnnouncements: UInt64 = 0
    ) {
        self.adapter = adapter
        self.framesSeen = framesSeen
        self.requestsSeen = requestsSeen
        self.repliesSent = repliesSent
        self.injectErrors = injectErrors
        self.observations = observations
        self.batches = batches
        self.largestBatch = largestBatch
        self.captureErrors = captureErrors
        self.controlFramesSent = controlFramesSent
        self.controlSendErrors = controlSendErrors
        self.ignored = ignored
        self.batchSizeCounts = batchSizeCounts
        self.standbyAnnouncements = standbyAnnouncements
    }
}
