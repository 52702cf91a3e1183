import Foundation
import Logging
import ProxyARPCore
import ProxyARPEtcd
import ProxyARPTestSupport
import Testing

/// etcd's authentication through the JSON gateway: the token request has its own timeout
/// (bcrypt), and a refusal is remembered instead of costing the member a bcrypt check per call.
@Suite("etcd adapter: authentication", .serialized, .enabled(if: etcdEnabled))
struct EtcdAuthenticationTests {
    static func store(_ etcd: EtcdLab, user: String, password: String, options: EtcdOwnershipStore.Options = .init()) throws -> EtcdOwnershipStore {
        try EtcdOwnershipStore(
            configuration: EtcdConfiguration(endpoints: etcd.endpoints, username: user, password: password), options: options,
            logger: Logger(label: "test.etcd.auth"))
    }

    /// True when a listing of the prefix is refused as unauthenticated.
    static func refused(_ store: EtcdOwnershipStore) async -> Bool {
        do {
            _ = try await store.list(prefix: "/p/")
            return false
        } catch {
            if case .unauthenticated = error { return true }
            Issue.record("expected a refusal, got \(error)")
            return false
        }
    }

    /// Creates `root`, a role with read-write on `/p/`, the user `proxyarpd` (password
    /// `s3cret`) with that role, and turns authentication on.
    static func enableAuthentication(_ etcd: EtcdLab) async throws {
        for command in [
            ["user", "add", "root:rootpw"], ["role", "add", "proxyarpd"], ["role", "grant-permission", "proxyarpd", "--prefix=true", "readwrite", "/p/"],
            ["user", "add", "proxyarpd:s3cret"], ["user", "grant-role", "proxyarpd", "proxyarpd"], ["auth", "enable"],
        ] {
            try await etcd.etcdctl(command)
        }
    }

    /// The authentications etcd handled (its gRPC server counts every call, the JSON
    /// gateway's included), whatever their result.
    static func authentications(_ etcd: EtcdLab) async throws -> Double {
        try await etcd.metricSum("grpc_server_handled_total", matching: "grpc_method=\"Authenticate\"")
    }

    /// Starts `count` listings of `/p/` at once on `store`; returns how many succeeded and
    /// how many were refused as unauthenticated.
    static func listings(_ count: Int, on store: EtcdOwnershipStore) async -> (succeeded: Int, refused: Int) {
        await withTaskGroup(of: Result<Void, OwnershipStoreError>.self) { group in
            for _ in 0..<count {
                group.addTask {
                    do throws(OwnershipStoreError) {
                        _ = try await store.list(prefix: "/p/")
                        return .success(())
                    } catch {
                        return .failure(error)
                    }
                }
            }
            var outcome = (succeeded: 0, refused: 0)
            for await result in group {
                switch result {
                case .success: outcome.succeeded += 1
                case .failure(.unauthenticated): outcome.refused += 1
                case .failure(let error): Issue.record("a listing failed otherwise: \(error)")
                }
            }
            return outcome
        }
    }

    @Test("a user with a role on the prefix gets a token with the default timeouts; a refusal is answered from memory for the hold-off")
    func tokenAndRefusalHoldoff() async throws {
        try await withEtcd { etcd, _ in
            try await Self.enableAuthentication(etcd)
            // Each fresh client's first call fetches a token: one bcrypt check on the member.
            var took: [Duration] = []
            for _ in 0..<3 {
                let store = try Self.store(etcd, user: "proxyarpd", password: "s3cret")
                let started = ContinuousClock.now
                do {
                    _ = try await store.list(prefix: "/p/")
                } catch {
                    Issue.record("the first call with a good password failed: \(error)")
                }
                took.append(ContinuousClock.now - started)
                await store.shutdown()
            }
            let load = ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?").split(separator: " ").prefix(3).joined(separator: " ")
            print("etcd-auth: first call with authentication took \(took) (load \(load))")

            // A user that does not exist yet is refused; created afterwards, a client within its
            // hold-off still answers the refusal from memory, a new client gets in.
            let early = try Self.store(etcd, user: "late", password: "pw1", options: .init(refusalHoldoff: .seconds(30)))
            #expect(await Self.refused(early))
            try await etcd.etcdctl(["user", "add", "late:pw1"], user: "root:rootpw")
            try await etcd.etcdctl(["user", "grant-role", "late", "proxyarpd"], user: "root:rootpw")
            #expect(await Self.refused(early), "the refusal is remembered for the hold-off")
            let fresh = try Self.store(etcd, user: "late", password: "pw1")
            #expect(!(await Self.refused(fresh)), "a client without a remembered refusal gets a token")
            await early.shutdown()
            await fresh.shutdown()
        }
    }

    @Test("8 calls that find the token invalid at once share one token request; 8 calls with a wrong password cost etcd one check")
    func tokenRefreshIsSingleFlight() async throws {
        try await withEtcd { etcd, _ in
            try await Self.enableAuthentication(etcd)
            // Generous timeouts: this counts requests, and under load the lab's etcd (in the
            // helpers' low-priority cgroup) can take over 400 ms per call and 2 s per bcrypt check.
            let patient = EtcdOwnershipStore.Options(requestTimeout: .seconds(3), connectTimeout: .seconds(2), authenticationTimeout: .seconds(6))
            let store = try Self.store(etcd, user: "proxyarpd", password: "s3cret", options: patient)
            #expect(await Self.listings(1, on: store) == (1, 0), "a token is fetched")
            // etcd drops every token it gave when authentication is turned off (and on again).
            try await etcd.etcdctl(["auth", "disable"], user: "root:rootpw")
            try await etcd.etcdctl(["auth", "enable"])
            let before = try await Self.authentications(etcd)
            #expect(before >= 1, "etcd counted the first token request: \(before)")
            let refreshed = await Self.listings(8, on: store)
            let afterRefresh = try await Self.authentications(etcd)
            #expect(refreshed == (8, 0), "every call succeeds with the new token: \(refreshed)")
            #expect(afterRefresh - before == 1, "token requests for 8 calls with an invalid token: \(afterRefresh - before)")

            // A wrong password: 8 calls at once, one bcrypt check; all 8 hear the refusal.
            let wrong = try Self.store(etcd, user: "proxyarpd", password: "wrong", options: patient)
            let refused = await Self.listings(8, on: wrong)
            let afterRefusal = try await Self.authentications(etcd)
            #expect(refused == (0, 8), "\(refused)")
            #expect(afterRefusal - afterRefresh == 1, "token requests for 8 calls with a wrong password: \(afterRefusal - afterRefresh)")
            await store.shutdown()
            await wrong.shutdown()
        }
    }
}
