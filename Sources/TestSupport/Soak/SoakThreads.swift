/// The daemon's threads by owner, from their names (`/proc/PID/task/*/comm`), so the soak
/// can judge each kind by its own rule (issue 11).
///
/// - **The daemon's own threads** (`proxyarpd`, `pio-h0`, `control`, `link-monitor`, ...,
///   started by `PlatformThread`): their number depends only on the configuration, so it
///   must be exactly flat; a leak shows in every reading.
/// - **Executor workers**: Swift Concurrency's global executor on Linux is libdispatch's
///   non-overcommit root queue of the task's QoS (`com.apple.root.default-qos`; the kernel
///   keeps the last 15 bytes of the label: `oot.default-qos`). libdispatch sizes that pool
///   itself (swift-corelibs-libdispatch, tag swift-6.3.1-RELEASE, the toolchain in use):
///   `_dispatch_root_queue_init_pthread_pool` (src/queue.c) starts it at the number of
///   online CPUs, and the work-queue monitor (`_dispatch_workq_monitor_pools`,
///   src/event/workqueue.c, once a second) adds one worker when work waits and fewer than
///   that many workers are runnable (`R` in `/proc/TID/stat`), up to
///   `WORKQ_OVERSUBSCRIBE_FACTOR` (2) × online CPUs; beyond that (up to
///   `DISPATCH_WORKQ_MAX_PTHREAD_COUNT`, 255) only when at its sample *no* worker is
///   runnable: the pool blocked, which the daemon avoids (its blocking work runs on its own
///   threads), or every worker waiting a moment on a lock, rare. An idle worker exits after
///   5 s. So their number follows load, and the judged bound is
///   ``executorWorkerBound(onlineCPUs:)``, per queue.
/// - **libdispatch's other threads**: the overcommit root queues' workers
///   (`-qos.overcommit`: dispatch sources such as the signal handler's) and the manager:
///   judged like the daemon's own, by the fewest of a burst (one comes and goes in turn).
public enum SoakThreadKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Started by the daemon (named by it).
    case daemon
    /// A worker of a libdispatch non-overcommit root queue: Swift's global executor.
    case executorWorker
    /// Any other libdispatch thread (overcommit queues, the manager).
    case dispatchService

    /// The kind of the thread named `name` (its `comm`).
    public static func of(_ name: String) -> SoakThreadKind {
        if name.hasSuffix(".overcommit") || name.hasSuffix("-manager") || name == "DispatchWorker" { return .dispatchService }
        if name.hasSuffix("-qos") { return .executorWorker }
        return .daemon
    }

    /// libdispatch's bound on one non-overcommit root queue's workers while any of them is
    /// runnable: 2 × online CPUs (see the type comment).
    public static func executorWorkerBound(onlineCPUs: Int) -> Int { 2 * max(1, onlineCPUs) }
}

/// Thread counts of one reading, by kind, and the executor workers by queue name.
public struct SoakThreadCounts: Sendable, Equatable, Codable {
    /// Threads by kind.
    public var byKind: [SoakThreadKind: Int]
    /// Executor workers by thread name (one name per root queue).
    public var executorQueues: [String: Int]

    /// Counts `names` (one `comm` per thread).
    public init(names: [String]) {
        var byKind: [SoakThreadKind: Int] = [:]
        var queues: [String: Int] = [:]
        for name in names {
            let kind = SoakThreadKind.of(name)
            byKind[kind, default: 0] += 1
            if kind == .executorWorker { queues[name, default: 0] += 1 }
        }
        self.byKind = byKind
        self.executorQueues = queues
    }

    /// Threads of `kind`.
    public subscript(kind: SoakThreadKind) -> Int { byKind[kind] ?? 0 }

    /// The most workers of any one root queue.
    public var busiestQueue: Int { executorQueues.values.max() ?? 0 }
}

/// What one report line says about threads: over its burst of readings, the fewest of the
/// daemon's own and of libdispatch's service threads (a transient one, such as a `tc-guard`
/// run or an overcommit worker, is in only some readings), and the most executor workers.
public struct SoakThreadSample: Sendable, Equatable, Codable {
    /// The fewest daemon-owned threads of the burst.
    public var daemonOwned: Int
    /// The most daemon-owned threads of the burst.
    public var daemonOwnedPeak: Int
    /// The most executor workers of the burst (all queues).
    public var executorWorkers: Int
    /// The most executor workers of one queue in any reading of the burst.
    public var executorWorkersPerQueue: Int
    /// The fewest libdispatch service threads of the burst.
    public var dispatchService: Int
    /// The most libdispatch service threads of the burst.
    public var dispatchServicePeak: Int

    /// Creates a sample from explicit figures.
    public init(daemonOwned: Int, daemonOwnedPeak: Int? = nil, executorWorkers: Int, executorWorkersPerQueue: Int? = nil,
                dispatchService: Int, dispatchServicePeak: Int? = nil) {
        self.daemonOwned = daemonOwned
        self.daemonOwnedPeak = daemonOwnedPeak ?? daemonOwned
        self.executorWorkers = executorWorkers
        self.executorWorkersPerQueue = executorWorkersPerQueue ?? executorWorkers
        self.dispatchService = dispatchService
        self.dispatchServicePeak = dispatchServicePeak ?? dispatchService
    }

    /// Summarises a burst of readings (at least one).
    public init(burst readings: [SoakThreadCounts]) {
        func fewest(_ kind: SoakThreadKind) -> Int { readings.map { $0[kind] }.min() ?? 0 }
        func most(_ kind: SoakThreadKind) -> Int { readings.map { $0[kind] }.max() ?? 0 }
        self.init(
            daemonOwned: fewest(.daemon), daemonOwnedPeak: most(.daemon), executorWorkers: most(.executorWorker),
            executorWorkersPerQueue: readings.map(\.busiestQueue).max() ?? 0,
            dispatchService: fewest(.dispatchService), dispatchServicePeak: most(.dispatchService))
    }

    /// `own 7 executor 4 dispatch 1(2)` for the report line.
    public var text: String {
        "own \(daemonOwned)\(daemonOwnedPeak == daemonOwned ? "" : "(\(daemonOwnedPeak))") executor \(executorWorkers) "
            + "dispatch \(dispatchService)\(dispatchServicePeak == dispatchService ? "" : "(\(dispatchServicePeak))")"
    }
}
