import Foundation
import Logging
import ProxyARPActors
import ProxyARPCore
import ProxyARPPlatform
import ProxyARPTestSupport
import Synchronization
import Testing

import ProxyARPEtcd

/// An engine whose NICs can serve or not as the test says (before the adapters report, a
/// real engine has none that can), taking `applyTime` per apply.
final class SwitchableNICEngine: ClusterEngine {
    let canServe: Mutex<Bool>
    let applyTime: Duration
    let applies = Mutex<[[IPAddress]]>([])

    init(canServe: Bool, applyTime: Duration = .zero) {
        self.canServe = Mutex(canServe)
        self.applyTime = applyTime
    }

    func apply(_ configuration: DaemonConfiguration) async -> ReloadSummary {
        try? await Task.sleep(for: applyTime)
        applies.withLock { $0.append(configuration.vips.map(\.address)) }
        return ReloadSummary(added: 0, removed: 0, changed: 0)
    }

    func hasEligibleAdapter() async -> Bool { canServe.withLock { $0 } }
}

/// What cluster mode logs is what happens: no release announced with nothing to release,
/// no "answering" while the answer gate is closed.
@Suite("Cluster coordinator's log against a real etcd", .serialized, .enabled(if: etcdEnabled))
struct ClusterLogTests {
    /// Polls `condition` every 50 ms for at most `seconds`.
    static func eventually(seconds: Double = 10, _ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<Int(seconds * 20) {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    /// Runs a coordinator owning `vips` VIPs of `configuration` over `store`, logging to `handler`.
    static func withCoordinator(
        _ etcd: EtcdLab, _ store: EtcdOwnershipStore, vips: Int, engine: SwitchableNICEngine, gate: FenceGate = FenceGate(),
        handler: RecordingLogHandler, _ body: (ClusterCoordinator, DaemonConfiguration) async throws -> Void
    ) async throws {
        let configuration = ClusterCoordinatorEtcdTests.configuration(etcd.endpoints, vips: vips, leaseTTL: .seconds(2))
        let keepaliveThread = try TaskThread(name: "test-lease")
        defer { keepaliveThread.shutdown() }
        let coordinator = ClusterCoordinator(
            configuration: configuration, store: store, engine: engine, fence: gate, clock: SystemClock(),
            logger: handler.logger(label: "test.cluster-log"), keepaliveThread: keepaliveThread)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await coordinator.run() }
            try await body(coordinator, configuration)
            group.cancelAll()
        }
    }

    /// What is wrong with the lines from the first containing `event` on: the grant of a new
    /// lease must be logged, a line must say the host answers again, and every line saying
    /// it answers must come after the grant and be logged with the answer gate open.
    static func answeringProblems(after event: String, in lines: [RecordingLogHandler.Line]) -> [String] {
        guard let start = lines.firstIndex(where: { $0.message.contains(event) }) else { return ["no `\(event)` line in \(lines.map(\.message))"] }
        let after = Array(lines[start...])
        var problems: [String] = []
        let granted = after.firstIndex { $0.message.contains("lease granted") }
        if granted == nil { problems.append("the new lease's grant is not logged: \(after.map(\.message))") }
        var answering = 0
        for index in after.indices where after[index].message.contains("answering") && !after[index].message.contains("not answering") {
            answering += 1
            let line = after[index]
            if line.annotation != "open" { problems.append("logged with the answer gate \(line.annotation ?? "?"): \(line.message)") }
            if let granted, index < granted { problems.append("`\(line.message)` comes before the grant") }
        }
        if answering == 0 { problems.append("no line says when the host answers again: \(after.map(\.message))") }
        return problems
    }

    /// Waits until `coordinator` owns its two units, revokes its lease behind its back, and
    /// waits until it owns them again under a new lease, its gate open.
    static func loseTheLease(of coordinator: ClusterCoordinator, store: EtcdOwnershipStore) async throws {
        #expect(try await eventually { await coordinator.settledOwnedVIPs()?.count == 2 }, "both units owned")
        let first = await coordinator.status().lease
        // The next keepalive hears the lease is gone.
        try await revoke(first, on: store)
        let again = try await eventually { await servesUnderAnotherLease(coordinator, than: first, units: 2) }
        #expect(again, "a new lease, both units owned again, the gate open")
    }

    /// Revokes the lease `hex` (as status shows it) behind the coordinator's back.
    static func revoke(_ hex: String?, on store: EtcdOwnershipStore) async throws {
        let raw = try #require(hex.flatMap { UInt64($0, radix: 16) }, "no lease to revoke")
        try await store.revokeLease(LeaseID(rawValue: Int64(bitPattern: raw)))
    }

    /// True when `coordinator` holds a lease other than `lease`, owns `units` units and its gate is open.
    static func servesUnderAnotherLease(_ coordinator: ClusterCoordinator, than lease: String?, units: Int) async -> Bool {
        let status = await coordinator.status()
        let owned = await coordinator.settledOwnedVIPs()?.count
        return status.lease != nil && status.lease != lease && !status.fenced && owned == units
    }

    @Test("at start, before any NIC can serve, nothing is owned and no release is logged; losing every NIC later releases the units, logged once")
    func noReleaseLoggedAtStart() async throws {
        try await withEtcd { etcd, store in
            let handler = RecordingLogHandler(level: .info)
            let engine = SwitchableNICEngine(canServe: false)
            try await Self.withCoordinator(etcd, store, vips: 3, engine: engine, handler: handler) { coordinator, configuration in
                // The lease is held and the first claims would be allowed (settled, listed):
                // only the NICs keep this host from claiming.
                #expect(try await Self.eventually { await coordinator.status().lease != nil }, "a lease is granted")
                try await Task.sleep(for: .milliseconds(1_500))  // the settle (500 ms) and many eligibility polls (50 ms)
                let early = handler.recorded
                #expect(!early.contains { $0.message.contains("no NIC can serve") }, "\(early.map(\.message))")
                #expect(await coordinator.status().unitsByOwner?["lb1"] == nil, "nothing owned yet")

                engine.canServe.withLock { $0 = true }
                #expect(try await Self.eventually { await coordinator.settledOwnedVIPs()?.count == 3 }, "every unit claimed once a NIC can serve")
                let unitsPrefix = "\(configuration.cluster!.keyPrefix)units/"
                #expect(try await store.list(prefix: unitsPrefix).records.count == 3)

                // Every link lost: the units go, and the log says so once.
                engine.canServe.withLock { $0 = false }
                let released = try await Self.eventually { try await store.list(prefix: unitsPrefix).records.isEmpty }
                #expect(released, "every unit key released")
                let releases = handler.recorded.filter { $0.message.contains("no NIC can serve") }
                #expect(releases.count == 1, "\(releases)")
                #expect(releases.first?.metadata["units"] == "3", "\(releases)")
            }
        }
    }

    @Test("after a lease loss: the new lease is logged as granted while the gate is closed, and `answering` only once the answer gate is open")
    func answeringLoggedWhenTheGateOpens() async throws {
        try await withEtcd { etcd, store in
            let gate = FenceGate()
            // Each line keeps whether the answer gate was open when it was logged.
            let handler = RecordingLogHandler(level: .info) {
                gate.allows(nowNanoseconds: MonotonicClock.now().nanoseconds) ? "open" : "closed"
            }
            // A slow engine: the withdrawal of the lost lease's VIPs takes a while, and the
            // gate waits for it while the new lease is already granted.
            let engine = SwitchableNICEngine(canServe: true, applyTime: .milliseconds(300))
            try await Self.withCoordinator(etcd, store, vips: 2, engine: engine, gate: gate, handler: handler) { coordinator, _ in
                try await Self.loseTheLease(of: coordinator, store: store)
            }
            let problems = Self.answeringProblems(after: "lease lost", in: handler.recorded)
            #expect(problems.isEmpty, "\(problems)")
        }
    }
}
