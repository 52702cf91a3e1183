import Foundation
import Logging
import ProxyARPCore
import ProxyARPTestSupport
import Synchronization
import Testing

@testable import ProxyARPEtcd

/// Root (namespaces) and etcd installed.
let etcdEnabled = getuid() == 0 && FileManager.default.isExecutableFile(atPath: EtcdLab.binary)

/// Starts a one-member etcd reachable from this process, runs `body` with a client, and
/// always kills etcd and removes its namespace and data.
func withEtcd<T>(members: Int = 1, _ body: (EtcdLab, EtcdOwnershipStore) async throws -> T) async throws -> T {
    let etcd = try await EtcdLab.start(members: members, tag: "etc")
    do {
        try await etcd.attachRoot()
        // From this process (root namespace): the first connect resolves the member's MAC over
        // the new veth; wait until etcd answers here too (bounded), and allow slow connects
        // under load: these tests are about behaviour, not latency.
        for _ in 0..<50 {
            if try await Command.run("curl", ["-s", "-m", "1", "\(etcd.endpoints[0])/health"], check: false).output.contains("true") { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let store = try EtcdOwnershipStore(
            configuration: EtcdConfiguration(endpoints: etcd.endpoints),
            options: .init(requestTimeout: .seconds(3), connectTimeout: .seconds(2), watchSilenceLimit: .seconds(5)),
            logger: Logger(label: "test.etcd"))
        do {
            let result = try await body(etcd, store)
            await store.shutdown()
            await etcd.destroy()
            return result
        } catch {
            await store.shutdown()
            throw error
        }
    } catch {
        await etcd.destroy()
        throw error
    }
}

/// Collects what a watch delivers.
final class ChangeLog: Sendable {
    let changes = Mutex<[OwnershipChange]>([])
    func append(_ new: [OwnershipChange]) { changes.withLock { $0 += new } }
    var all: [OwnershipChange] { changes.withLock { $0 } }
}

@Suite("etcd adapter against a real etcd", .serialized, .enabled(if: etcdEnabled))
struct EtcdOwnershipStoreTests {
    @Test func leaseClaimReleaseAndFencingToken() async throws {
        try await withEtcd { _, store in
            let lease = try await store.grantLease(ttl: .seconds(5))
            #expect(lease.ttl >= .seconds(5))
            let other = try await store.grantLease(ttl: .seconds(5))
            let key = "/proxyarpd-test/units/198.18.0.100"

            guard case .claimed(let token) = try await store.claim(key: key, value: "alpha", lease: lease.id) else {
                Issue.record("the first claim must win")
                return
            }
            // A second claim, from another lease, sees the holder and its token.
            let second = try await store.claim(key: key, value: "beta", lease: other.id)
            #expect(second == .taken(OwnershipRecord(key: key, value: "alpha", token: token, lease: lease.id)))

            let snapshot = try await store.list(prefix: "/proxyarpd-test/")
            #expect(snapshot.records == [OwnershipRecord(key: key, value: "alpha", token: token, lease: lease.id)])
            #expect(snapshot.revision >= token.rawValue)

            // A release guarded by a wrong token deletes nothing; the right one deletes.
            #expect(try await store.release(key: key, token: FencingToken(rawValue: token.rawValue + 1000)) == false)
            #expect(try await store.release(key: key, token: token) == true)
            #expect(try await store.list(prefix: "/proxyarpd-test/").records.isEmpty)

            // A new claim gets a larger token.
            guard case .claimed(let newer) = try await store.claim(key: key, value: "beta", lease: other.id) else {
                Issue.record("the key was free")
                return
            }
            #expect(newer > token)
        }
    }

    @Test func keepaliveReturnsTheTTLAndNilOnceTheLeaseIsGone() async throws {
        try await withEtcd { _, store in
            let lease = try await store.grantLease(ttl: .seconds(3))
            #expect(try await store.keepAlive(lease.id) == .seconds(3))
            _ = try await store.claim(key: "/p/units/a", value: "alpha", lease: lease.id)
            try await store.revokeLease(lease.id)
            #expect(try await store.keepAlive(lease.id) == nil)
            #expect(try await store.list(prefix: "/p/").records.isEmpty)  // the key went with the lease
            try await store.revokeLease(lease.id)  // twice: not an error
        }
    }

    @Test func aOneSecondLeaseExpiresWithoutKeepalives() async throws {
        try await withEtcd { _, store in
            let lease = try await store.grantLease(ttl: .seconds(1))
            _ = try await store.claim(key: "/p/units/a", value: "alpha", lease: lease.id)
            var gone = false
            for _ in 0..<60 where !gone {
                try await Task.sleep(for: .milliseconds(100))
                gone = try await store.list(prefix: "/p/").records.isEmpty
            }
            #expect(gone)
            #expect(try await store.keepAlive(lease.id) == nil)
        }
    }

    @Test func watchSeesPutAndDeleteAndIgnoresForeignValues() async throws {
        try await withEtcd { _, store in
            let start = try await store.list(prefix: "/w/")
            let lease = try await store.grantLease(ttl: .seconds(5))
            let log = ChangeLog()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await store.watch(prefix: "/w/", afterRevision: start.revision) { log.append($0) }
                }
                try await Task.sleep(for: .milliseconds(300))
                guard case .claimed(let token) = try await store.claim(key: "/w/units/a", value: "alpha", lease: lease.id) else {
                    Issue.record("claim")
                    return
                }
                // A value that is not text, written by hand under the prefix: logged and ignored or read as "".
                _ = try await store.call("/v3/kv/put", ["key": EtcdJSON.base64("/w/junk"), "value": EtcdJSON.base64(bytes: [0xff, 0xfe])])
                _ = try await store.release(key: "/w/units/a", token: token)
                for _ in 0..<50 where log.all.count < 3 { try await Task.sleep(for: .milliseconds(50)) }
                group.cancelAll()
            }
            let changes = log.all
            #expect(changes.count == 3, "\(changes)")
            guard case .put(let first, _)? = changes.first else {
                Issue.record("first change is not a put: \(changes)")
                return
            }
            #expect(first.key == "/w/units/a" && first.value == "alpha" && first.lease == lease.id && first.token.rawValue > start.revision)
            #expect(changes.contains { if case .put(let record, _) = $0 { record.key == "/w/junk" && record.value == "" } else { false } })
            #expect(changes.last.map { if case .delete(let key, _) = $0 { key == "/w/units/a" } else { false } } == true)
        }
    }

    @Test func watchFromACompactedRevisionThrowsCompacted() async throws {
        try await withEtcd { _, store in
            let lease = try await store.grantLease(ttl: .seconds(5))
            for index in 0..<5 { _ = try await store.claim(key: "/c/units/\(index)", value: "a", lease: lease.id) }
            let now = try await store.list(prefix: "/c/").revision
            _ = try await store.call("/v3/kv/compaction", ["revision": String(now)])
            await #expect(throws: OwnershipStoreError.compacted(now)) {
                try await store.watch(prefix: "/c/", afterRevision: 1) { _ in }
            }
        }
    }

    @Test func failsOverToTheNextEndpoint() async throws {
        try await withEtcd { etcd, _ in
            // The first endpoint is a member address that nobody listens on.
            let dead = "http://\(etcd.subnet).99:2379"
            let store = try EtcdOwnershipStore(
                configuration: EtcdConfiguration(endpoints: [dead] + etcd.endpoints), logger: Logger(label: "test.failover"))
            let lease = try await store.grantLease(ttl: .seconds(2))
            #expect(try await store.keepAlive(lease.id) == .seconds(2))
            await store.shutdown()
        }
    }

    @Test func splitterHandlesChunkingAndBracesInStrings() {
        var splitter = JSONObjectSplitter()
        let text = #"{"result":{"a":"}{\"x"}}"# + "\n" + #"{"result":{}}"#
        var objects: [[UInt8]] = []
        for byte in Array(text.utf8) { objects += splitter.feed([byte]) ?? [] }
        #expect(objects.map { String(decoding: $0, as: UTF8.self) } == [#"{"result":{"a":"}{\"x"}}"#, #"{"result":{}}"#])
        var small = JSONObjectSplitter(limit: 8)
        #expect(small.feed(Array(#"{"aaaaaaaaaa":1}"#.utf8)) == nil)
    }

    @Test func malformedWatchResponsesAreIgnored() throws {
        let logger = Logger(label: "test")
        #expect(try EtcdOwnershipStore.watchChanges(Array("not json".utf8), logger: logger) == [])
        #expect(try EtcdOwnershipStore.watchChanges(Array(#"{"result":{"events":[{"type":"PUT","kv":{"key":"%%%"}}]}}"#.utf8), logger: logger) == [])
        #expect(throws: OwnershipStoreError.compacted(7)) {
            try EtcdOwnershipStore.watchChanges(Array(#"{"result":{"canceled":true,"compact_revision":"7"}}"#.utf8), logger: logger)
        }
    }

    @Test("malformed watch events are skipped one by one: the good events of the same response still count")
    func malformedEventsBesideGoodOnes() throws {
        let logger = Logger(label: "test")
        let good = #"{"type":"DELETE","kv":{"key":"\#(EtcdJSON.base64("/p/units/a"))","mod_revision":"9"}}"#
        let bad = [
            #"{"type":"DELETE","kv":{"key":"%%%"}}"#,  // not base64
            #"{"type":"EXPIRE","kv":{"key":"\#(EtcdJSON.base64("/p/units/b"))"}}"#,  // no such type
            #"{"type":"PUT"}"#,  // no kv
            #"{"kv":{"key":"\#(EtcdJSON.base64("/p/units/c"))"}}"#,  // PUT without create_revision: a record needs one? (read as 0)
            #"42"#,  // not an object
        ]
        let body = #"{"result":{"header":{"revision":"9"},"events":["# + (bad + [good]).joined(separator: ",") + "]}}"
        let changes = try EtcdOwnershipStore.watchChanges(Array(body.utf8), logger: logger)
        #expect(changes.contains(.delete(key: "/p/units/a", revision: 9)), "\(changes)")
        #expect(!changes.contains { if case .delete(let key, _) = $0 { key != "/p/units/a" } else { false } }, "\(changes)")
        // Whole responses that are not what etcd sends: nothing, no throw.
        for text in [#"{"result":{"events":{"not":"a list"}}}"#, #"{"result":"x"}"#, #"{"res"#, "[]", ""] {
            #expect(try EtcdOwnershipStore.watchChanges(Array(text.utf8), logger: logger) == [], "\(text)")
        }
    }
}
