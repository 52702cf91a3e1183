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

/// What cluster mode logs is what happens: no release announced with nothing to release.
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
}
