import Foundation
import Logging
import ProxyARPActors
import ProxyARPCore
import ProxyARPPlatform
import ProxyARPStateMachines
import ProxyARPTestSupport
import Testing

import ProxyARPEtcd

/// An engine that takes `applyTime` per apply (as a real one does with thousands of VIPs)
/// and remembers every apply.
actor SlowRecordingEngine: ClusterEngine {
    let applyTime: Duration
    private(set) var applies: [[IPAddress]] = []

    init(applyTime: Duration) { self.applyTime = applyTime }

    func apply(_ configuration: DaemonConfiguration) async -> ReloadSummary {
        try? await Task.sleep(for: applyTime)
        applies.append(configuration.vips.map(\.address))
        return ReloadSummary(added: 0, removed: 0, changed: 0)
    }

    func hasEligibleAdapter() async -> Bool { true }
}

@Suite("Cluster coordinator against a real etcd: coalesced applies, readiness, trace, reload", .serialized, .enabled(if: etcdEnabled))
struct ClusterCoordinatorEtcdTests {
    /// 300 VIPs, one unit each, one host: 300 claims.
    static func configuration(_ endpoints: [String], vips count: Int = 300, leaseTTL: Duration = .seconds(2)) -> DaemonConfiguration {
        let vips = (0..<count).map { VIPConfiguration(address: IPv4Address(rawValue: IPv4Address("198.18.4.0")!.rawValue + UInt32($0))) }
        return DaemonConfiguration(
            adapters: [AdapterConfiguration(name: "ea")], vips: vips,
            cluster: ClusterConfiguration(
                etcd: EtcdConfiguration(endpoints: endpoints), host: "lb1", leaseTTL: leaseTTL,
                keyPrefix: "/proxyarpd-\(UInt32.random(in: 0...UInt32.max))/"))
    }

    @Test("300 units claimed at start: every VIP applied, in far fewer applies than claims; ready; every transition traced and replayable")
    func coalescedApplies() async throws {
        try await withEtcd { etcd, store in
            let configuration = Self.configuration(etcd.endpoints)
            let engine = SlowRecordingEngine(applyTime: .milliseconds(50))
            let clock = SystemClock()
            let trace = TraceLog(capacity: 100_000, clock: clock)
            // The keepalive on its own thread, as in the daemon (other suites may hold the pool).
            let keepaliveThread = try TaskThread(name: "test-lease")
            defer { keepaliveThread.shutdown() }
            let coordinator = ClusterCoordinator(
                configuration: configuration, store: store, engine: engine, fence: FenceGate(), clock: clock, trace: trace,
                logger: Logger(label: "test.coordinator"), keepaliveThread: keepaliveThread)
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await coordinator.run() }
                var owned: [IPAddress]?
                for _ in 0..<300 {  // at most 30 s
                    owned = await coordinator.settledOwnedVIPs()
                    if owned?.count == 300 { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(owned?.count == 300, "settled and owning every VIP: \(owned?.count ?? -1)")
                let applies = await engine.applies
                #expect(Set(applies.last ?? []) == Set(configuration.vips.map(\.address)), "the last apply holds every owned VIP")
                #expect(applies.count < 100, "300 claims, \(applies.count) applies: coalesced (one apply per claim before)")
                let status = await coordinator.status()
                #expect(status.units.count == 300 && status.units.allSatisfy { $0.state == "owned" && $0.owner == "lb1" && $0.token != nil })
                #expect(status.unitsByOwner == ["lb1": 300])

                // A reload changing the cluster section is refused; one removing a VIP counts it and releases its key.
                var changed = configuration
                changed.cluster?.leaseTTL = .seconds(3)
                await #expect(throws: ClusterReloadRefused.self) { try await coordinator.reload(changed) }
                var smaller = configuration
                smaller.vips.removeLast()
                let summary = try await coordinator.reload(smaller)
                #expect(summary == ReloadSummary(added: 0, removed: 1, changed: 0))
                let removedKey = "\(configuration.cluster!.keyPrefix)units/\(configuration.vips.last!.address)"
                var gone = false
                for _ in 0..<50 where !gone {
                    try await Task.sleep(for: .milliseconds(100))
                    gone = try await store.list(prefix: removedKey).records.isEmpty
                }
                #expect(gone, "the removed VIP's key is released")
                group.cancelAll()
            }
            // Every unit's machine is in the trace, and the records replay.
            let records = trace.records
            let created = records.filter { if case .ownershipCreated = $0.event { true } else { false } }
            #expect(created.count == 300)
            let replay = TraceReplay.replay(records)
            #expect(replay.divergences.isEmpty, "\(replay.divergences.prefix(5))")
            #expect(replay.replayed == records.count)
            #expect(OwnershipMilestone.derive(records).filter { $0.kind == .claimed }.count == 300)
            #expect(OwnershipMilestone.derive(records).contains { $0.kind == .released })
        }
    }

    @Test("status --vip: the unit holding an IPv6 VIP, as for IPv4 (blocks of 64 addresses: /122 and /26)")
    func statusOfOneVIPEitherFamily() async throws {
        try await withEtcd { etcd, store in
            let v6 = (0..<3).map { VIPConfiguration(address: IPv6Address(high: 0x2001_0db8_0000_0000, low: 0x100 + UInt64($0 * 64))) }
            let v4 = (0..<3).map { VIPConfiguration(address: IPv4Address(rawValue: IPv4Address("198.18.4.0")!.rawValue + UInt32($0 * 64))) }
            var configuration = Self.configuration(etcd.endpoints, vips: 0)
            configuration.vips = v4 + v6
            configuration.selection = SelectionConfiguration(blockPrefixLength: 26)
            let clock = SystemClock()
            let keepaliveThread = try TaskThread(name: "test-lease")
            defer { keepaliveThread.shutdown() }
            let coordinator = ClusterCoordinator(
                configuration: configuration, store: store, engine: SlowRecordingEngine(applyTime: .zero), fence: FenceGate(), clock: clock,
                logger: Logger(label: "test.coordinator"), keepaliveThread: keepaliveThread)
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await coordinator.run() }
                for _ in 0..<100 where await coordinator.settledOwnedVIPs()?.count != 6 {  // at most 10 s
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(await coordinator.status().units.count == 6)
                // 2001:db8::140 lies in the second 64-address block: 2001:db8::140/122.
                let six = await coordinator.status(vip: .v6(IPv6Address("2001:db8::170")!))
                #expect(six.units.map(\.unit) == ["2001:db8::140/122"], "\(six.units)")
                #expect(six.units.first?.owner == "lb1" && six.units.first?.state == "owned" && six.units.first?.vipCount == 1)
                let four = await coordinator.status(vip: .v4(IPv4Address("198.18.4.70")!))
                #expect(four.units.map(\.unit) == ["198.18.4.64/26"], "\(four.units)")
                // An address in no configured unit: that unit alone, not the whole list.
                let none = await coordinator.status(vip: .v6(IPv6Address("2001:db8::9:1")!))
                #expect(none.units.map(\.unit) == ["2001:db8::9:0/122"] && none.units.first?.owner == nil, "\(none.units)")
                group.cancelAll()
            }
        }
    }
}
