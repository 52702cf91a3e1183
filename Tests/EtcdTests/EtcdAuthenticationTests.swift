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

    @Test("a user with a role on the prefix gets a token with the default timeouts; a refusal is answered from memory for the hold-off")
    func tokenAndRefusalHoldoff() async throws {
        try await withEtcd { etcd, _ in
            for command in [
                ["user", "add", "root:rootpw"], ["role", "add", "proxyarpd"], ["role", "grant-permission", "proxyarpd", "--prefix=true", "readwrite", "/p/"],
                ["user", "add", "proxyarpd:s3cret"], ["user", "grant-role", "proxyarpd", "proxyarpd"], ["auth", "enable"],
            ] {
                try await etcd.etcdctl(command)
            }
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
}
