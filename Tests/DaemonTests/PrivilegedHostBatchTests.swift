import Glibc
import ProxyARPCore
@testable import ProxyARPDaemon
import ProxyARPIO
import ProxyARPTestSupport
import Synchronization
import Testing

/// Issue 11: binds queued on the leader thread ran one by one, six netlink round trips each.
/// The privileged host now binds what is queued in one batch.
@Suite("Privileged host: binds queued on the leader thread run as one batch (root)", .serialized, .enabled(if: getuid() == 0))
struct PrivilegedHostBatchTests {
    @Test("200 binds arriving while the leader thread is busy: a few batches, about 2 round trips per move, every rule right")
    func queuedBindsBatch() async throws {
        let lab = try await LabNamespace.make("phb")
        defer { lab.destroy() }
        try await lab.addVeth("q0", peer: "x0", address: "198.18.95.10/24")
        try await lab.addVeth("q1", peer: "x1", address: "198.18.95.11/24")
        let netlink = try NetlinkHost(namespacePath: lab.path)
        let executor = try ThreadExecutor(name: "test-leader")
        defer { executor.shutdown() }
        let host = PrivilegedHost(netlink: netlink, executor: executor)
        let busy = Busy(executor: executor)
        let vips = (0..<200).map { IPAddress.v4(IPv4Address(198, 18, 96, UInt8($0))) }

        for (agent, replacing) in [("q0", nil), ("q1", "q0")] as [(AdapterName, AdapterName?)] {
            let requests = netlink.netlinkRequests
            let batchesBefore = await host.batches
            let arrived = Counter()
            let holding = Counter()
            // The leader is busy until every bind is on its way (bounded: 10 s).
            let hold = Task { await busy.hold(started: holding, until: { arrived.value >= vips.count }) }
            for _ in 0..<1000 where holding.value == 0 { try await Task.sleep(for: .milliseconds(10)) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for vip in vips {
                    group.addTask {
                        arrived.increment()
                        try await host.bindOutboundPath(of: vip, to: agent, replacing: replacing)
                    }
                }
                try await group.waitForAll()
            }
            await hold.value
            let batches = await host.batches
            let cost = netlink.netlinkRequests - requests
            // One per call would be 200 batches of one and 5 to 6 round trips per VIP.
            #expect(batches.count - batchesBefore.count <= 10, "\(batches.count - batchesBefore.count) batches")
            #expect(batches.binds - batchesBefore.binds == vips.count)
            #expect(cost <= (replacing == nil ? 1 : 2) * vips.count + 30, "\(cost) round trips for \(vips.count) binds to \(agent)")
        }
        let table1 = netlink.table(forInterfaceIndex: Int32(try await lab.ip("-o", "link", "show", "dev", "q1").prefix(while: { $0 != ":" }))!)
        let rules = try await lab.ip("-4", "rule", "show").split(separator: "\n").filter { $0.contains("from 198.18.96.") && $0.contains("lookup") }
        #expect(rules.count == vips.count)
        #expect(rules.allSatisfy { $0.contains("lookup \(table1) ") })
        _ = try netlink.cleanup()
    }
}

extension PrivilegedHostBatchTests {
    @Test("an unbind that arrives after a bind does not overtake it while the bind waits for its batch")
    func unbindAfterBind() async throws {
        let lab = try await LabNamespace.make("phu")
        defer { lab.destroy() }
        try await lab.addVeth("y0", peer: "z0", address: "198.18.97.10/24")
        let netlink = try NetlinkHost(namespacePath: lab.path)
        let executor = try ThreadExecutor(name: "test-leader")
        defer { executor.shutdown() }
        let host = PrivilegedHost(netlink: netlink, executor: executor)
        let busy = Busy(executor: executor)
        let vip = IPAddress.v4(IPv4Address(198, 18, 98, 7))
        let released = Counter()
        let holding = Counter()
        let hold = Task { await busy.hold(started: holding, until: { released.value > 0 }) }
        for _ in 0..<1000 where holding.value == 0 { try await Task.sleep(for: .milliseconds(10)) }
        // Both queue behind the busy thread: the bind first, the unbind 100 ms later.
        let bind = Task { try await host.bindOutboundPath(of: vip, to: "y0", replacing: nil) }
        try await Task.sleep(for: .milliseconds(100))
        let unbind = Task { try await host.unbindOutboundPath(of: vip, from: "y0") }
        try await Task.sleep(for: .milliseconds(100))
        released.increment()
        await hold.value
        try await bind.value
        try await unbind.value
        // With the bind's batch run after the unbind, its rule would stay.
        let rules = try await lab.ip("-4", "rule", "show").split(separator: "\n").filter { $0.contains("from 198.18.98.7 ") }
        #expect(rules.isEmpty, "\(rules)")
        _ = try netlink.cleanup()
    }
}

/// Keeps an executor's thread busy, as the leader is while it runs a batch.
private actor Busy {
    let executor: ThreadExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    init(executor: ThreadExecutor) { self.executor = executor }

    /// Blocks the thread until `condition` holds (at most 10 s), then 50 ms more.
    func hold(started: Counter, until condition: @Sendable () -> Bool) {
        started.increment()
        for _ in 0..<1000 where !condition() { usleep(10_000) }
        usleep(50_000)
    }
}

/// A counter shared between tasks.
private final class Counter: Sendable {
    private let count = Atomic<Int>(0)
    var value: Int { count.load(ordering: .acquiring) }
    func increment() { count.add(1, ordering: .releasing) }
}
