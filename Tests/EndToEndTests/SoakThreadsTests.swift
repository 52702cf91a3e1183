import ProxyARPTestSupport
import Testing

/// Issue 11: the soak failed "threads flat" whenever libdispatch added a worker to Swift's
/// global executor under load, though the daemon's own threads never changed. Threads are now
/// judged by owner: the daemon's own flat, executor workers within libdispatch's bound.
@Suite("Soak threads: counted by owner from their names, each judged by its own rule")
struct SoakThreadsTests {
    /// The names a soak's daemon had (from `/proc/PID/task/*/comm` in the 300 s run).
    static let names = [
        "proxyarpd", "pio-h0", "pio-h1", "pio-h2", "pio-h3", "control", "link-monitor",
        "oot.default-qos", "oot.default-qos", "-qos.overcommit",
    ]

    @Test("names: the daemon's own, libdispatch's executor workers (per queue), libdispatch's service threads")
    func classification() {
        #expect(SoakThreadKind.of("proxyarpd") == .daemon)
        #expect(SoakThreadKind.of("pio-h0") == .daemon)
        #expect(SoakThreadKind.of("tc-guard") == .daemon)
        #expect(SoakThreadKind.of("oot.default-qos") == .executorWorker)
        #expect(SoakThreadKind.of("r-initiated-qos") == .executorWorker)
        #expect(SoakThreadKind.of("-qos.overcommit") == .dispatchService)
        #expect(SoakThreadKind.of("ispatch-manager") == .dispatchService)
        let counts = SoakThreadCounts(names: Self.names + ["r-initiated-qos"])
        #expect(counts[.daemon] == 7 && counts[.executorWorker] == 3 && counts[.dispatchService] == 1)
        #expect(counts.executorQueues == ["oot.default-qos": 2, "r-initiated-qos": 1])
        #expect(counts.busiestQueue == 2)
        #expect(SoakThreadKind.executorWorkerBound(onlineCPUs: 2) == 4)
    }

    @Test("a burst: the fewest of the daemon's own and service threads (transients left out), the most executor workers")
    func burst() {
        let sample = SoakThreadSample(burst: [
            SoakThreadCounts(names: Self.names),
            SoakThreadCounts(names: Self.names + ["tc-guard", "-qos.overcommit", "oot.default-qos"]),
            SoakThreadCounts(names: Self.names),
        ])
        #expect(sample == SoakThreadSample(
            daemonOwned: 7, daemonOwnedPeak: 8, executorWorkers: 3, executorWorkersPerQueue: 3, dispatchService: 1,
            dispatchServicePeak: 2))
        #expect(sample.text == "own 7(8) executor 3 dispatch 1(2)")
    }

    @Test("judge: the pool growing within 2 × CPUs passes (it failed before); a leaked own thread or a pool past the bound fails")
    func judgement() {
        func line(_ t: Double, own: Int, executor: Int, service: Int = 1) -> SoakSample {
            SoakSample(
                elapsedSeconds: t, residentKiB: 50_000, fileDescriptors: 38, threads: own + 2 + service,
                threadsPeak: own + executor + service,
                threadKinds: SoakThreadSample(daemonOwned: own, executorWorkers: executor, dispatchService: service),
                traceFill: 100, traceCapacity: 100, vipsByState: ["active": 356], requestsPerSecond: 20_000,
                repliesPerSecond: 20_000, wrongReplies: 0, stuckVIPs: 0, flaps: 0, reloads: 0)
        }
        func threads(_ samples: [SoakSample], cpus: Int = 2) -> SoakCriterion? {
            var report = SoakReport(
                daemon: "proxyarpd", plannedSeconds: 90, offeredRate: 20_000, vipsA: 356, vipsB: 356, vipsAsked: 360,
                adapters: ["h0", "h1", "h2", "h3"], blockPrefixLength: 26, graceMilliseconds: 500, stuckAfterSeconds: 10)
            report.onlineCPUs = cpus
            report.samples = samples
            return SoakJudge.criteria(report).first { $0.name == SoakJudge.threadsName }
        }
        // The 30-minute run's case: a third, then a fourth default-QoS worker under load.
        let grown = [line(30, own: 7, executor: 2), line(60, own: 7, executor: 3), line(90, own: 7, executor: 4)]
        #expect(threads(grown)?.met == true, "\(threads(grown)?.detail ?? "-")")
        // Judged by the old rule (all threads, most of each burst, flat), the same run failed.
        var unnamed = grown
        for index in unnamed.indices { unnamed[index].threadKinds = nil }
        #expect(threads(unnamed)?.met == false)
        // A leaked thread of the daemon's own, even with the pool back at 2.
        #expect(threads([line(30, own: 7, executor: 3), line(60, own: 8, executor: 2), line(90, own: 8, executor: 2)])?.met == false)
        // The pool past libdispatch's bound: it was blocked.
        #expect(threads([line(30, own: 7, executor: 2), line(60, own: 7, executor: 5)])?.met == false)
        #expect(threads([line(30, own: 7, executor: 2), line(60, own: 7, executor: 5)], cpus: 4)?.met == true)
        // A service thread more in every reading.
        #expect(threads([line(30, own: 7, executor: 2), line(60, own: 7, executor: 2, service: 2)])?.met == false)
    }
}
