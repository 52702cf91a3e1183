import Foundation
import ProxyARPCore
import ProxyARPTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The daemon against an etcd that requires TLS client certificates, and one with authentication on.
extension ClusterEndToEndTests {
    @Test("etcd over TLS with --client-cert-auth: the daemon claims its VIPs and answers; a client without a certificate is refused")
    func tlsWithClientCertificates() async throws {
        try await Self.withLab("tls", hosts: 1, members: 1, tls: true) { lab, daemons in
            let tls = try #require(lab.etcd.tls)
            #expect(lab.etcd.endpoints.allSatisfy { $0.hasPrefix("https://") })
            // The member really requires a client certificate.
            let anonymous = try await lab.etcd.lab.exec(
                lab.etcd.namespace, "curl", ["-s", "-m", "3", "--cacert", tls.ca, "\(lab.etcd.endpoints[0])/health"], check: false)
            #expect(!anonymous.output.contains("\"health\":\"true\""), "etcd answered a client without a certificate: \(anonymous.output)")

            let vips = Array(Self.vips.prefix(2))
            try daemons.start(0, vips: vips)
            let owners = try await Self.settledOwners(lab, vips: vips)
            #expect(owners == Dictionary(uniqueKeysWithValues: vips.map { ($0, 0) }), "owners: \(owners)\n\(daemons.log(0).suffix(3000))")
            let keys = try await lab.etcd.etcdctl(["get", "--prefix", "/proxyarpd/\(lab.etcd.lab.prefix)/units/"]).output
            for vip in vips { #expect(keys.contains("units/\(vip)\nhost0"), "\(keys)") }
        }
    }

    @Test("etcd with authentication: a user whose role covers the prefix claims and answers; a wrong password claims nothing")
    func authenticationWithARoleOnThePrefix() async throws {
        try await Self.withLab("auth", hosts: 2, members: 1) { lab, daemons in
            let prefix = "/proxyarpd/\(lab.etcd.lab.prefix)/"
            for command in [
                ["user", "add", "root:rootpw"], ["role", "add", "proxyarpd"],
                ["role", "grant-permission", "proxyarpd", "--prefix=true", "readwrite", prefix],
                ["user", "add", "proxyarpd:s3cret"], ["user", "grant-role", "proxyarpd", "proxyarpd"], ["auth", "enable"],
            ] {
                try await lab.etcd.etcdctl(command)
            }
            // Authentication is on: an anonymous write is refused.
            let anonymous = try await lab.etcd.etcdctl(["put", prefix + "probe", "x"], check: false)
            #expect(!anonymous.succeeded, "an anonymous put succeeded: \(anonymous.output)")

            let (good, bad) = ("198.18.0.100", "198.18.0.101")
            try daemons.start(0, vips: [good], extraEtcd: "    username: proxyarpd\n    password: s3cret")
            try daemons.start(1, vips: [bad], extraEtcd: "    username: proxyarpd\n    password: wrong")
            let owners = try await Self.settledOwners(lab, vips: [good], seconds: 20)
            #expect(owners == [good: 0], "owners: \(owners)\n\(daemons.log(0).suffix(3000))")
            let keys = try await lab.etcd.etcdctl(["get", "--prefix", prefix + "units/"], user: "root:rootpw").output
            #expect(keys.contains("units/\(good)\nhost0"), "\(keys)")
            #expect(!keys.contains("units/\(bad)"), "\(keys)")
            #expect(try await Self.quickOwners(lab, vips: [bad]).isEmpty, "\(bad) answered without a lease")
            // One clear error naming the cause, not a line per retry; status shows it too.
            let log1 = daemons.log(1)
            #expect(log1.contains("authentication failed"), "\(log1.suffix(2000))")
            let refusals = log1.split(separator: "\n").count { $0.contains("etcd refused our credentials") }
            #expect(refusals == 1, "logged \(refusals) times:\n\(log1.suffix(2000))")
            #expect(!log1.split(separator: "\n").contains { $0.contains("watch restarts") && $0.contains("authentication") }, "\(log1.suffix(2000))")
            let status1 = try await Self.status(lab, host: 1)
            let etcdError = (status1?["cluster"] as? [String: Any])?["etcdError"] as? String
            #expect(etcdError?.contains("authentication failed") == true, "status: \(String(describing: status1))")
            #expect(daemons[1].isRunning, "a wrong password must not stop the daemon")
        }
    }
}
