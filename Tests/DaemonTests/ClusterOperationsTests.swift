import Foundation
import ProxyARPActors
import ProxyARPControl
import ProxyARPCore
import ProxyARPDaemon
import ProxyARPStateMachines
import Testing

@Suite("Cluster operations: ownership trace dumps, status with owners, reload of the cluster section")
struct ClusterOperationsTests {
    static let unit = "198.18.4.0/26"

    /// lb1's records of one unit: created, claimed (token 5), lost to lb2 (token 8).
    static func records() throws -> [MachineTraceRecord] {
        var machine = OwnershipStateMachine(unit: unit, host: "lb1")
        var records: [MachineTraceRecord] = []
        let base = Instant(nanoseconds: 5_000_000_000)
        func add(_ ms: Int64, _ event: MachineEvent, _ from: String, _ action: String) {
            records.append(
                MachineTraceRecord(
                    sequence: UInt64(records.count + 1), monotonic: base.advanced(by: .milliseconds(ms)),
                    wallNanoseconds: 1_700_000_000_000_000_000 + ms * 1_000_000, subject: .unit(unit), event: event, from: from,
                    to: machine.description, action: action))
        }
        add(0, .ownershipCreated(OwnershipCreation(host: "lb1", settings: machine.settings)), "", "none")
        let events: [(Int64, OwnershipEvent)] = [
            (1, .eligibilityChanged(eligible: true, rank: 0)),
            (3, .claimSucceeded(FencingToken(rawValue: 5))),
            (2000, .observed(OwnershipHolder(host: "lb2", token: FencingToken(rawValue: 8), isOurs: false))),
        ]
        for (ms, event) in events {
            let from = machine.description
            let action = try machine.handle(event, now: base.advanced(by: .milliseconds(ms)))
            add(ms, .ownership(event), from, action.description)
        }
        return records
    }

    @Test("a dump with ownership records is written, read back equal, replayed without divergence, and shown with milestones")
    func dumpRoundTrip() throws {
        let records = try Self.records()
        let path = NSTemporaryDirectory() + "proxyarpd-ownership-\(getpid()).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try TraceFile.write(records, to: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains(#""unit":{"_0":"198.18.4.0\/26"}"#) || text.contains(#""unit":{"_0":"198.18.4.0/26"}"#), "\(text)")
        let read = try TraceFile.read(path)
        #expect(read == records)
        #expect(TraceReplay.replay(read).divergences.isEmpty)
        let table = TraceTable.render(read)
        #expect(table.contains("[claimed: 198.18.4.0/26 owner lb1 token 5]"), "\(table)")
        #expect(table.contains("[lost: 198.18.4.0/26 owner lb2 token 5]"), "\(table)")
    }

    @Test("trace --vip matches the unit (block) holding the VIP")
    func traceFilter() throws {
        let record = try Self.records()[2]
        #expect(ControlRequest(command: .trace, vip: "198.18.4.17").matches(record))
        #expect(!ControlRequest(command: .trace, vip: "198.18.4.64").matches(record))
        #expect(ControlRequest.unit("198.18.0.100", holds: "198.18.0.100"))
        #expect(!ControlRequest.unit("198.18.0.100", holds: "198.18.0.101"))
    }

    @Test("status in cluster mode: each VIP with its owner host and token, the lease's time left, units by owner")
    func status() throws {
        let line = #"""
            {"ok":true,"status":{"engine":{"vips":[\#
            {"vip":"198.18.4.1","state":"active","detail":"active(ea epoch 1 rounds 3)","agent":"ea",\#
            "agentMAC":"02:b0:00:00:00:0a","localAddress":"198.18.0.11",\#
            "since":1000000000,"announcementsSent":3,"announcementsConfirmed":1,"failovers":0,"conflicts":0}],\#
            "adapters":[{"name":"ea","state":"eligible(txerr 0)","eligible":true,"carrier":true,"adminUp":true,"vipCount":1}],\#
            "conflicts":0},"io":[],"monotonicNanoseconds":2500000000,"wallNanoseconds":0,\#
            "cluster":{"host":"lb1","hosts":["lb1","lb2"],"lease":"56a2","fenceRemainingMilliseconds":640,"fenced":false,\#
            "leaseTTLMilliseconds":1000,"leaseRemainingMilliseconds":740,"blockPrefixLength":26,"unitCount":2,\#
            "unitsByOwner":{"lb1":1,"lb2":1},"units":[\#
            {"unit":"198.18.4.0/26","state":"owned","owner":"lb1","token":5,"vipCount":64},\#
            {"unit":"198.18.4.64/26","state":"unowned","owner":"lb2","token":8,"vipCount":64}]}}}
            """#
        let report = try #require(try ControlCodec.decode(ControlReply.self, from: line).status)
        let text = StatusTable.render(report)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0].hasSuffix("OWNER  TOKEN"), "\(text)")
        #expect(lines[1].hasPrefix("198.18.4.1") && lines[1].hasSuffix("lb1    5"), "\(text)")
        #expect(text.contains("cluster host lb1, hosts lb1, lb2; lease 56a2 (TTL 1s), 740 ms left, fence in 640 ms"), "\(text)")
        #expect(text.contains("units: 2 (by owner: lb1 1, lb2 1)"), "\(text)")
        #expect(text.contains("198.18.4.64/26  64    unowned  lb2    8"), "\(text)")
    }

    @Test("status in cluster mode says HOLDING under on_quorum_loss: hold, and names an etcd error")
    func holdingAndEtcdError() {
        var status = ClusterStatus(host: "lb1", hosts: ["lb1"], lease: "56a2", fenceRemainingMilliseconds: -320, fenced: false, units: [])
        #expect(!StatusTable.clusterText(status).contains("HOLDING"))
        status.holding = true
        status.etcdError = "etcd authentication failed: invalid user ID or password"
        let text = StatusTable.clusterText(status)
        #expect(text.contains("fence in -320 ms (HOLDING: no etcd endpoint answers; serving owned VIPs, on_quorum_loss: hold)"), "\(text)")
        #expect(text.contains("etcd error: etcd authentication failed: invalid user ID or password"), "\(text)")
        // An older daemon's reply without the new fields still decodes.
        let old = #"{"host":"lb1","hosts":["lb1"],"fenced":true,"units":[]}"#
        #expect((try? ControlCodec.decode(ClusterStatus.self, from: old))?.holding == nil)
    }

    @Test("a reload that changes the cluster section is refused with the keys that changed; the VIP diff counts the pool")
    func reload() throws {
        let running = ClusterConfiguration(
            etcd: EtcdConfiguration(endpoints: ["http://198.18.9.11:2379"]), host: "lb1", leaseTTL: .seconds(1))
        var changed = running
        changed.leaseTTL = .seconds(2)
        changed.keyPrefix = "/other/"
        let refused = ClusterReloadRefused(running: running, requested: changed)
        #expect(refused.changedKeys == ["cluster.lease_ttl", "cluster.key_prefix"])
        #expect(refused.description.contains("needs a restart") || refused.description.contains("only at a restart"))
        #expect(ClusterReloadRefused(running: running, requested: nil).changedKeys == ["cluster (removed)"])

        let a = VIPConfiguration(address: IPv4Address("198.18.0.100")!)
        let b = VIPConfiguration(address: IPv4Address("198.18.0.101")!)
        var b2 = b
        b2.preferredHosts = ["lb2"]
        let c = VIPConfiguration(address: IPv4Address("198.18.0.102")!)
        #expect(ReloadSummary.between([a, b], [b2, c]) == ReloadSummary(added: 1, removed: 1, changed: 1))
    }
}
