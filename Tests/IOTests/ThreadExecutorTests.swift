import Glibc
import ProxyARPIO
import Synchronization
import Testing

/// An actor running on a given ``ThreadExecutor``.
private actor Probe {
    nonisolated let executor: ThreadExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    private(set) var order: [Int] = []
    private(set) var readableCalls = 0

    init(executor: ThreadExecutor) { self.executor = executor }

    func onExecutorThread() -> Bool { executor.isCurrentThread }
    func append(_ value: Int) { order.append(value) }
    func readable(drain descriptor: Int32?) {
        readableCalls += 1
        if let descriptor {
            var byte: UInt8 = 0
            _ = read(descriptor, &byte, 1)
        }
    }
}

@Suite("Thread executor")
struct ThreadExecutorTests {
    @Test("An actor on the executor runs on its thread, in order; shutdown joins")
    func runsJobsOnItsThread() async throws {
        let executor = try ThreadExecutor(name: "pio-test")
        let probe = Probe(executor: executor)
        #expect(await probe.onExecutorThread())
        #expect(!executor.isCurrentThread)
        for value in 0..<100 { await probe.append(value) }
        #expect(await probe.order == Array(0..<100))
        executor.shutdown()
        executor.shutdown()  // idempotent
    }

    @Test("Work handed over from a thread that is not Swift's runs on the executor's thread, isolated to its actor, in order")
    func executesWorkFromAnyThread() async throws {
        let executor = try ThreadExecutor(name: "pio-test-ex")
        defer { executor.shutdown() }
        let probe = Probe(executor: executor)
        let onThread = Atomic<Int>(0)
        let handed = try PlatformThread.start(name: "ex-caller") {
            for value in 0..<50 {
                executor.execute {
                    if executor.isCurrentThread { onThread.add(1, ordering: .relaxed) }
                    probe.assumeIsolated { $0.append(value) }
                }
            }
        }
        handed.join()
        var order: [Int] = []
        for _ in 0..<200 where order.count < 50 {
            try await Task.sleep(for: .milliseconds(5))
            order = await probe.order
        }
        #expect(order == Array(0..<50))
        #expect(onThread.load(ordering: .relaxed) == 50)
    }

    @Test("The readable handler runs isolated to the actor, without a hop")
    func readableHandlerIsIsolated() async throws {
        let executor = try ThreadExecutor(name: "pio-test-rd")
        defer { executor.shutdown() }
        let probe = Probe(executor: executor)
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let (readEnd, writeEnd) = (fds[0], fds[1])
        defer {
            close(readEnd)
            close(writeEnd)
        }
        executor.setReadableSource(descriptor: readEnd) { [probe] in
            probe.assumeIsolated { $0.readable(drain: readEnd) }
            return .handled(1)
        }
        var byte: UInt8 = 1
        for _ in 0..<3 { _ = write(writeEnd, &byte, 1) }
        // Bounded: 100 × 20 ms.
        for _ in 0..<100 where await probe.readableCalls < 3 {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(await probe.readableCalls >= 3)
        executor.clearReadableSource()
    }

    /// Registers an always-readable pipe (one byte, never drained) whose handler returns
    /// `outcome`, lets `executor` run for 300 ms, and returns how often the handler ran.
    private static func callsOnAlwaysReadableSource(
        _ executor: ThreadExecutor, returning outcome: ThreadExecutor.ReadableOutcome
    ) async throws -> (calls: Int, elapsed: Duration) {
        let calls = Atomic<Int>(0)
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer {
            close(fds[0])
            close(fds[1])
        }
        var byte: UInt8 = 1
        _ = write(fds[1], &byte, 1)  // never drained: always readable
        let started = ContinuousClock.now
        executor.setReadableSource(descriptor: fds[0]) {
            calls.wrappingAdd(1, ordering: .relaxed)
            return outcome
        }
        try await Task.sleep(for: .milliseconds(300))
        executor.clearReadableSource()
        return (calls.load(ordering: .relaxed), ContinuousClock.now - started)
    }

    @Test("A failing handler is backed off instead of spinning the thread")
    func failingHandlerBacksOff() async throws {
        let executor = try ThreadExecutor(name: "pio-test-bo")
        defer { executor.shutdown() }
        let (calls, elapsed) = try await Self.callsOnAlwaysReadableSource(executor, returning: .failed)
        // Spinning would call it hundreds of thousands of times; with a 100 ms backoff it
        // runs about once per 100 ms of however long the (possibly loaded) machine took.
        let allowed = Int(elapsed / ThreadExecutor.errorBackoff) + 10
        #expect(calls >= 1)
        #expect(calls <= allowed, "elapsed \(elapsed)")
    }

    @Test("After a busy batch the loop pauses before polling again; after a single item it does not")
    func busyBatchesCoalesce() async throws {
        func calls(reporting items: Int) async throws -> (calls: Int, elapsed: Duration) {
            let executor = try ThreadExecutor(name: "pio-test-co", coalescing: .milliseconds(20))
            defer { executor.shutdown() }
            return try await Self.callsOnAlwaysReadableSource(executor, returning: .handled(items))
        }
        let busy = try await calls(reporting: ThreadExecutor.coalescingThreshold)
        // A 20 ms pause after every call: about one call per 20 ms of the elapsed time.
        #expect(busy.calls >= 1)
        #expect(busy.calls <= Int(busy.elapsed / .milliseconds(20)) + 2, "elapsed \(busy.elapsed)")
        let single = try await calls(reporting: 1)
        #expect(single.calls > 10 * busy.calls, "single \(single.calls) vs busy \(busy.calls)")
    }
}

@Suite("Thread executor adopting its caller's thread")
struct AdoptedThreadExecutorTests {
    @Test("jobs run on the thread that calls runOnCurrentThread, until shutdown")
    func adoptsCaller() async throws {
        let executor = try ThreadExecutor(adoptingCallerNamed: "adopt-test")
        #expect(!executor.isRunning)
        let loop = try PlatformThread.start(name: "adopter") { executor.runOnCurrentThread() }
        let probe = Probe(executor: executor)
        #expect(await probe.onExecutorThread())
        #expect(executor.isRunning)
        executor.shutdown()
        loop.join()
    }
}
