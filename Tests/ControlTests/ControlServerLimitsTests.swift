import Foundation
import Logging
import ProxyARPActors
import ProxyARPControl
import ProxyARPCore
import ProxyARPStateMachines
import ServiceLifecycle
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The control server's bounds (issue 11, failure 5), against a real server on a socket in
/// a temporary directory. Root only: the server gives its socket to root with `chown`.
@Suite("Control server limits", .serialized, .enabled(if: getuid() == 0))
struct ControlServerLimitsTests {
    struct FixedClock: EngineClock {
        func now() -> Instant { Instant(nanoseconds: 0) }
        func wallNanoseconds() -> Int64 { 0 }
        func sleep(until deadline: Instant) async throws {}
    }

    static func emptyStatus() throws -> StatusReport {
        let engine = try ControlCodec.decode(EngineStatus.self, from: #"{"adapters":[],"conflicts":0,"vips":[]}"#)
        return StatusReport(engine: engine, io: [], monotonicNanoseconds: 0, wallNanoseconds: 0)
    }

    /// Runs a server with `limits` and `status` as its status handler, calls `body` with
    /// its socket path, then shuts it down and removes the directory.
    static func withServer(
        _ limits: ControlLimits, trace: TraceLog = TraceLog(capacity: 16, clock: FixedClock()),
        status: @escaping @Sendable (ControlRequest) async -> StatusReport,
        _ body: (String, ControlServer) async throws -> Void
    ) async throws {
        let directory = NSTemporaryDirectory() + "proxyarpd-control-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/control.sock"
        let handlers = ControlHandlers(status: status, reload: { ControlReply(ok: true) })
        let server = ControlServer(
            path: path, group: nil, handlers: handlers, trace: trace, limits: limits, logger: Logger(label: "test")
        )
        let group = ServiceGroup(services: [server], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            for _ in 0..<100 where !FileManager.default.fileExists(atPath: path) { try await Task.sleep(for: .milliseconds(20)) }
            do {
                try await body(path, server)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// True when `client` has something to read within `milliseconds`. Waits in 10 ms slices
    /// with a sleep between them, so the test never holds a thread of the cooperative pool
    /// (2 on this machine) that the server's own status handler needs to answer.
    static func readable(_ client: ControlClient, milliseconds: Int32) async -> Bool {
        for _ in 0..<max(1, milliseconds / 10) {
            if client.waitReadable(milliseconds: 0) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return client.waitReadable(milliseconds: 0)
    }

    /// The first reply line within `milliseconds`, if any.
    static func reply(_ client: ControlClient, milliseconds: Int32) async -> ControlReply? {
        guard await readable(client, milliseconds: milliseconds), let line = client.readLine() else { return nil }
        return ControlCodec.reply(line)
    }

    /// True when the server closed `client` within `milliseconds` (after any lines).
    static func closed(_ client: ControlClient, milliseconds: Int32) async -> Bool {
        for _ in 0..<16 {
            guard await readable(client, milliseconds: milliseconds) else { return false }
            if client.readLine() == nil { return true }
        }
        return false
    }

    @Test("over the cap, the longest-idle client makes room (told tooManyClients); status still answers; when all are busy a new client is refused")
    func clientCap() async throws {
        let report = try Self.emptyStatus()
        let slow = SlowGate()
        try await Self.withServer(ControlLimits(maximumClients: 4, requestTimeout: .seconds(60)), status: { _ in
            await slow.pass()
            return report
        }) { path, server in
            // 10 idle clients against a cap of 4: the six oldest are told and closed.
            let idle = try (0..<10).map { _ in try ControlClient(path: path) }
            var evicted = 0
            for client in idle.prefix(6) {
                if let reply = await Self.reply(client, milliseconds: 30_000), reply.code == .tooManyClients { evicted += 1 }
            }
            #expect(evicted == 6)
            #expect(server.counters.openClients <= 4)
            // status from a fresh client still answers.
            let operator1 = try ControlClient(path: path)
            try operator1.send(.status)
            #expect(await Self.reply(operator1, milliseconds: 30_000)?.ok == true)
            // Four clients busy (their status waits): the fifth is refused itself.
            slow.close()
            // One at a time: a client that has not sent its request yet is idle, and evictable.
            var busy: [ControlClient] = []
            for _ in 0..<4 {
                let client = try ControlClient(path: path)
                try client.send(.status)
                busy.append(client)
                try await Task.sleep(for: .milliseconds(100))
            }
            try await Task.sleep(for: .milliseconds(300))
            let refused = try ControlClient(path: path)
            let reply = await Self.reply(refused, milliseconds: 30_000)
            #expect(reply?.ok == false)
            #expect(reply?.code == .tooManyClients)
            #expect(reply?.error?.contains("too many control clients") == true)
            slow.open()
            for client in busy { #expect(await Self.reply(client, milliseconds: 30_000)?.ok == true) }
        }
    }

    @Test("an idle client is told idleTimeout and closed; a status that takes too long is answered timedOut")
    func timeouts() async throws {
        let report = try Self.emptyStatus()
        let slow = SlowGate()
        slow.close()
        let limits = ControlLimits(idleTimeout: .milliseconds(400), requestTimeout: .milliseconds(400))
        try await Self.withServer(limits, status: { _ in
            await slow.pass()
            return report
        }) { path, server in
            let idle = try ControlClient(path: path)
            #expect(await Self.reply(idle, milliseconds: 3_000)?.code == .idleTimeout)
            #expect(await Self.closed(idle, milliseconds: 1_000), "closed after the idle timeout")

            let waiting = try ControlClient(path: path)
            try waiting.send(.status)
            #expect(await Self.reply(waiting, milliseconds: 3_000)?.code == .timedOut)
            #expect(server.counters.timedOutClients >= 2)
            slow.open()
        }
    }

    @Test("trace --follow for a client that does not read: output bounded, records dropped, counted and told")
    func followBacklog() async throws {
        let trace = TraceLog(capacity: 200_000, clock: FixedClock())
        let limits = ControlLimits(followBacklogBytes: 16 * 1024)
        try await Self.withServer(limits, trace: trace, status: { _ in try! Self.emptyStatus() }) { path, server in
            let follower = try ControlClient(path: path)
            try follower.send(ControlRequest(command: .trace, follow: true))
            try await Task.sleep(for: .milliseconds(300))
            // About 30 MB of records while the client reads nothing (bounded loop).
            for round in 0..<20 {
                for index in 0..<5_000 {
                    trace.record(.adapter("eth0"), event: .adapterCreated(AdapterHealthSettings(holdDown: .seconds(1))),
                                 at: Instant(nanoseconds: Int64(round * 5_000 + index)), from: "a", to: "b", action: "none")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            try await Task.sleep(for: .milliseconds(500))
            #expect(server.counters.followRecordsDropped > 0)
            // Read what is there (bounded): records, and a notice of the drops among them.
            var notices: [UInt64] = []
            var bytes = 0
            for _ in 0..<200_000 where notices.isEmpty {
                guard follower.waitReadable(milliseconds: 1_000), let line = follower.readLine() else { break }
                bytes += line.utf8.count + 1
                if let count = ControlCodec.reply(line)?.followDropped { notices.append(count) }
            }
            #expect(!notices.isEmpty, "the client is told how many records it missed")
            #expect(bytes < 8 << 20, "what the server held for the client is bounded: \(bytes) bytes before the notice")
        }
    }
}

/// A gate `status` handlers wait on while closed (bounded: 30 s at most). The replies are
/// awaited for up to 30 s: in a full parallel test run the cooperative pool that runs the
/// handlers can be busy for seconds (the server's own thread never is).
final class SlowGate: Sendable {
    private let closed = Mutex(false)
    func close() { closed.withLock { $0 = true } }
    func open() { closed.withLock { $0 = false } }
    func pass() async {
        for _ in 0..<1_500 where closed.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(20)) }
    }
}
