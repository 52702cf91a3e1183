import Foundation
import ProxyARPActors
import ProxyARPControl
import ProxyARPCore
import ProxyARPStateMachines
import Testing

/// A status as the daemon encodes it (EngineStatus has no public memberwise init).
let sampleEngineStatusJSON = """
    {"adapters":[{"adminUp":true,"carrier":true,"eligible":true,"mac":"02:00:00:00:00:01","name":"eth0","state":"eligible(txerr 0)","vipCount":1}],\
    "conflicts":0,\
    "vips":[{"agent":"eth0","agentMAC":"02:00:00:00:00:01","announcementsConfirmed":3,"announcementsSent":3,\
    "confirmation":"heard by eth1","detail":"active(eth0 epoch 1 rounds 3)","failovers":0,"conflicts":0,"localAddress":"198.18.0.10",\
    "since":5000000000,"state":"active","vip":"198.18.0.100"}]}
    """

@Suite("Control socket protocol")
struct ControlProtocolTests {
    @Test("requests encode as one line of JSON with the documented keys and decode back")
    func requestRoundTrip() throws {
        let request = ControlRequest(command: .trace, vip: "198.18.0.100", adapter: nil, sinceNanoseconds: 42, follow: true)
        let line = try ControlCodec.line(request)
        #expect(line.hasSuffix("\n"))
        #expect(line.filter { $0 == "\n" }.count == 1)
        #expect(line == #"{"command":"trace","follow":true,"sinceNanoseconds":42,"vip":"198.18.0.100"}"# + "\n")
        #expect(try ControlCodec.decode(ControlRequest.self, from: line.dropLast()) == request)
        #expect(try ControlCodec.decode(ControlRequest.self, from: #"{"command":"status"}"#) == .status)
        #expect(try ControlCodec.decode(ControlRequest.self, from: #"{"command":"reload"}"#) == .reload)
    }

    @Test("bad requests are typed errors, never crashes", arguments: [
        "", "{", "[]", #"{"command":"shutdown"}"#, #"{"vip":"198.18.0.1"}"#, #"{"command":"trace","follow":"yes"}"#,
    ])
    func badRequests(_ line: String) {
        #expect(throws: ControlCodec.BadLine.self) { try ControlCodec.decode(ControlRequest.self, from: line) }
    }

    @Test("a status reply round-trips with the engine status and per-adapter counters")
    func statusReply() throws {
        let engine = try ControlCodec.decode(EngineStatus.self, from: sampleEngineStatusJSON)
        let report = StatusReport(
            engine: engine, io: [AdapterIOCounters(adapter: "eth0", framesSeen: 10, requestsSeen: 7, repliesSent: 5)],
            monotonicNanoseconds: 197_000_000_000, wallNanoseconds: 1_700_000_000_000_000_000
        )
        let line = try ControlCodec.line(ControlReply(ok: true, status: report))
        let decoded = try #require(ControlCodec.reply(line.dropLast()))
        #expect(decoded.ok)
        #expect(decoded.status == report)
        #expect(decoded.status?.engine.vips.first?.agentMAC == MACAddress("02:00:00:00:00:01"))
    }

    @Test("a status of many VIPs, encoded a chunk of VIPs at a time, gives the same bytes as one encoding", arguments: [0, 1, 511, 512, 513, 1_300])
    func chunkedStatusLine(vipCount: Int) throws {
        var engine = try ControlCodec.decode(EngineStatus.self, from: sampleEngineStatusJSON)
        let template = engine.vips[0]
        engine.vips = (0..<vipCount).map { index in
            var vip = template
            vip.vip = .v4(IPv4Address(rawValue: IPv4Address("198.19.0.1")!.rawValue + UInt32(index)))
            vip.detail = index % 3 == 0 ? #"failed(agentSelected in "active" \ "vips":[])"# : "active(eth0 epoch \(index) rounds 3)"
            vip.failovers = index
            return vip
        }
        // A string that spells the marker: escaped in the encoding, so never taken for it.
        engine.adapters[0].state = #"eligible "vips":[] (txerr 0)"#
        let report = StatusReport(
            engine: engine, io: [AdapterIOCounters(adapter: "eth0", framesSeen: 10, requestsSeen: 7, repliesSent: 5)],
            repliesByVIP: ["198.19.0.1": 4], monotonicNanoseconds: 197_000_000_000, wallNanoseconds: 1_700_000_000_000_000_000
        )
        let reply = ControlReply(ok: true, status: report)
        let bytes = try ControlCodec.lineBytes(reply)
        #expect(bytes == Array(try ControlCodec.line(reply).utf8))
        #expect(ControlCodec.reply(String(decoding: bytes.dropLast(), as: UTF8.self)) == reply)
    }

    @Test("reload and error replies; a trace record line is not taken for a reply")
    func otherReplies() throws {
        let reload = try ControlCodec.line(ControlReply(ok: true, reload: ReloadSummary(added: 1, removed: 2, changed: 0)))
        #expect(ControlCodec.reply(reload)?.reload == ReloadSummary(added: 1, removed: 2, changed: 0))
        let refused = try ControlCodec.line(ControlReply.failure("reload refused", errors: ["f.yaml:3: bad"]))
        #expect(ControlCodec.reply(refused)?.ok == false)
        #expect(ControlCodec.reply(refused)?.errors == ["f.yaml:3: bad"])
        let end = try ControlCodec.line(ControlReply(ok: true, end: .init(records: 3, dropped: 0)))
        #expect(ControlCodec.reply(end)?.end?.records == 3)
        let record = try TraceFile.encode([SyntheticTrace.record(1, at: 0, .vip(.v4(IPv4Address("198.18.0.1")!)), to: "pending(awaiting selection)")])
        #expect(ControlCodec.reply(record.dropLast()) == nil)
    }

    @Test("trace filters: VIP, adapter and wall time")
    func traceFilters() {
        let vip = SyntheticTrace.record(1, at: 0, .vip(.v4(IPv4Address("198.18.0.1")!)), to: "pending(awaiting selection)")
        let adapter = SyntheticTrace.record(2, at: 5, .adapter("eth0"), to: "eligible(txerr 0)")
        #expect(ControlRequest(command: .trace, vip: "198.18.0.1").matches(vip))
        #expect(!ControlRequest(command: .trace, vip: "198.18.0.1").matches(adapter))
        #expect(!ControlRequest(command: .trace, vip: "198.18.0.2").matches(vip))
        #expect(ControlRequest(command: .trace, adapter: "eth0").matches(adapter))
        #expect(!ControlRequest(command: .trace, adapter: "eth0").matches(vip))
        #expect(ControlRequest(command: .trace, sinceNanoseconds: SyntheticTrace.wallOrigin + 1).matches(adapter))
        #expect(!ControlRequest(command: .trace, sinceNanoseconds: SyntheticTrace.wallOrigin + 1).matches(vip))
    }

    @Test("the root may connect; a group member by gid; others are refused with a reason")
    func peerAccess() {
        let access = PeerAccess(groupID: 4242, groupName: "ops")
        #expect(access.refusal(uid: 0, gid: 0) == nil)
        #expect(access.refusal(uid: 1000, gid: 4242) == nil)
        #expect(access.refusal(uid: 65534, gid: 65534)?.contains("refused") == true)
        #expect(PeerAccess.rootOnly.refusal(uid: 1000, gid: 4242)?.contains("root only") == true)
    }
}

@Suite("TraceLog.records(after:)")
struct TraceLogAfterTests {
    struct FixedClock: EngineClock {
        func now() -> Instant { Instant(nanoseconds: 0) }
        func wallNanoseconds() -> Int64 { 0 }
        func sleep(until deadline: Instant) async throws {}
    }

    func log(capacity: Int, records: Int) -> TraceLog {
        let log = TraceLog(capacity: capacity, clock: FixedClock())
        for index in 0..<records {
            log.record(.adapter("eth0"), event: .adapterCreated(AdapterHealthSettings(holdDown: .seconds(1))),
                       at: Instant(nanoseconds: Int64(index)), from: "a", to: "b", action: "none")
        }
        return log
    }

    @Test("returns the records after a sequence, bounded by the limit, and the latest sequence")
    func after() {
        let trace = log(capacity: 100, records: 10)
        #expect(trace.records(after: 0).records.map(\.sequence) == Array(1...10))
        #expect(trace.records(after: 7).records.map(\.sequence) == [8, 9, 10])
        #expect(trace.records(after: 10).records.isEmpty)
        #expect(trace.records(after: 99).records.isEmpty)
        #expect(trace.records(after: 2, limit: 3).records.map(\.sequence) == [3, 4, 5])
        #expect(trace.records(after: 2, limit: 3).latest == 10)
        #expect(log(capacity: 10, records: 0).records(after: 0).latest == 0)
    }

    @Test("after the ring wrapped, records already dropped are skipped")
    func wrapped() {
        let trace = log(capacity: 4, records: 10)
        #expect(trace.records(after: 0).records.map(\.sequence) == [7, 8, 9, 10])
        #expect(trace.records(after: 8).records.map(\.sequence) == [9, 10])
        #expect(trace.records(after: 6, limit: 2).records.map(\.sequence) == [7, 8])
    }
}
