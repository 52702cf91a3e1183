import Foundation
import Logging
import ProxyARPActors
import ProxyARPCore
import ProxyARPPlatform
import ProxyARPTestSupport
import Synchronization
import Testing

import ProxyARPEtcd

/// The real etcd client, with keepalives that can be made to fail: as if no endpoint could
/// be reached, or as if an endpoint answered with an error. Everything else passes through.
final class KeepaliveFaults: OwnershipStore {
    enum Mode: Sendable { case pass, unreachable, answeredError }
    let inner: EtcdOwnershipStore
    let mode = Mutex(Mode.pass)

    init(_ inner: EtcdOwnershipStore) { self.inner = inner }

    func keepAlive(_ lease: LeaseID) async throws(OwnershipStoreError) -> Duration? {
        switch mode.withLock({ $0 }) {
        case .pass: return try await inner.keepAlive(lease)
        case .unreachable: throw .unreachable("injected: no endpoint answers")
        case .answeredError: throw .protocolError("injected: an endpoint answered with an error")
        }
    }

    func grantLease(ttl: Duration) async throws(OwnershipStoreError) -> LeaseGrant { try await inner.grantLease(ttl: ttl) }
    func revokeLease(_ lease: LeaseID) async throws(OwnershipStoreError) { try await inner.revokeLease(lease) }
    func claim(key: String, value: String, lease: LeaseID) async throws(OwnershipStoreError) -> ClaimOutcome {
        try await inner.claim(key: key, value: value, lease: lease)
    }
    func release(key: String, token: FencingToken) async throws(OwnershipStoreError) -> Bool { try await inner.release(key: key, token: token) }
    func reassert(key: String, value: String, lease: LeaseID, token: FencingToken) async throws(OwnershipStoreError) -> Bool {
        try await inner.reassert(key: key, value: value, lease: lease, token: token)
    }
    func list(prefix: String) async throws(OwnershipStoreError) -> OwnershipSnapshot { try await inner.list(prefix: prefix) }
    func watch(
        prefix: String, afterRevision: Int64, onChanges: @escaping @Sendable ([OwnershipChange]) async -> Void
    ) async throws(OwnershipStoreError) {
        try await inner.watch(prefix: prefix, afterRevision: afterRevision, onChanges: onChanges)
    }
}

@Suite("Cluster coordinator: on_quorum_loss hold against a real etcd", .serialized, .enabled(if: etcdEnabled))
struct ClusterHoldTests {
    /// Runs a `hold` coordinator owning one VIP over `faults`; `body` gets the coordinator and its answer gate.
    static func withHoldingHost(_ body: (ClusterCoordinator, FenceGate, KeepaliveFaults) async throws -> Void) async throws {
        try await withEtcd { etcd, store in
            let faults = KeepaliveFaults(store)
            var configuration = ClusterCoordinatorEtcdTests.configuration(etcd.endpoints, vips: 1, leaseTTL: .seconds(2))
            configuration.cluster?.onQuorumLoss = .hold
            let gate = FenceGate()
            let keepaliveThread = try TaskThread(name: "test-lease")
            defer { keepaliveThread.shutdown() }
            let coordinator = ClusterCoordinator(
                configuration: configuration, store: faults, engine: SlowRecordingEngine(applyTime: .zero), fence: gate, clock: SystemClock(),
                logger: Logger(label: "test.hold"), keepaliveThread: keepaliveThread)
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await coordinator.run() }
                for _ in 0..<100 where await coordinator.settledOwnedVIPs()?.count != 1 {  // at most 10 s
                    try await Task.sleep(for: .milliseconds(100))
                }
                try #require(await coordinator.settledOwnedVIPs()?.count == 1)
                try await body(coordinator, gate, faults)
                group.cancelAll()
            }
        }
    }

    static func open(_ gate: FenceGate) -> Bool { gate.allows(nowNanoseconds: MonotonicClock.now().nanoseconds) }

    /// Polls `condition` every 50 ms for at most `seconds`.
    static func eventually(seconds: Double = 5, _ condition: () async -> Bool) async throws -> Bool {
        for _ in 0..<Int(seconds * 20) {
            if await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return await condition()
    }

    @Test("holding past the deadline while no endpoint answers; an endpoint answering with an error ends it: fenced, gate closed")
    func holdingEndsWhenAnEndpointAnswers() async throws {
        try await Self.withHoldingHost { coordinator, gate, faults in
            faults.mode.withLock { $0 = .unreachable }
            // Holding, and past the lease's deadline (the decision to hold is taken there).
            let holding = try await Self.eventually {
                let status = await coordinator.status()
                return status.holding == true && (status.fenceRemainingMilliseconds ?? 0) < -100
            }
            let heldStatus = await coordinator.status()
            #expect(holding, "holding after the deadline: \(heldStatus)")
            #expect(Self.open(gate) && !heldStatus.fenced, "holding: the gate stays open")
            faults.mode.withLock { $0 = .answeredError }
            let fenced = try await Self.eventually { await coordinator.status().fenced }
            let fencedStatus = await coordinator.status()
            #expect(fenced, "fenced once an endpoint answered")
            #expect(fencedStatus.holding == false)
            #expect(!Self.open(gate), "the answer gate is closed")
        }
    }

    @Test("fenced because an endpoint answered with an error: later unreachable errors do not reopen the gate")
    func answeredErrorThenUnreachableStaysFenced() async throws {
        try await Self.withHoldingHost { coordinator, gate, faults in
            faults.mode.withLock { $0 = .answeredError }
            let fenced = try await Self.eventually { await coordinator.status().fenced }
            #expect(fenced, "fenced at the deadline")
            #expect(!Self.open(gate))
            faults.mode.withLock { $0 = .unreachable }
            try await Task.sleep(for: .milliseconds(600))  // about 10 failed keepalives, 50 ms apart
            let status = await coordinator.status()
            #expect(status.fenced, "still fenced")
            #expect(status.holding == false)
            #expect(!Self.open(gate), "the gate stays closed until a keepalive is acknowledged")
        }
    }
}
