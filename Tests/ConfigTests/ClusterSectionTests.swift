import ProxyARPConfig
import ProxyARPCore
import Testing

/// Lines 1-6: adapters and one VIP; the cluster section starts on line 7.
private let start = """
    adapters:
      - name: eth0
        address: 198.18.0.10/24
    vips:
      - address: 198.18.0.100
        preferred_hosts: [alpha, beta]

    """

private func cluster(_ body: String) -> String {
    start + "cluster:\n" + body
}

private let minimal = "  etcd:\n    endpoints: [http://198.18.9.1:2379]\n"

let brokenClusterCases: [BrokenCase] = [
    BrokenCase(name: "cluster without etcd", yaml: cluster("  host: alpha\n"), line: 8, phrase: "missing required key \"etcd\""),
    BrokenCase(name: "no endpoints", yaml: cluster("  etcd:\n    endpoints: []\n"), line: 9, phrase: "non-empty list of URLs"),
    BrokenCase(name: "endpoint not a URL", yaml: cluster("  etcd:\n    endpoints:\n      - 198.18.9.1:2379\n"), line: 10, phrase: "is not an etcd client URL"),
    BrokenCase(name: "endpoint with a path", yaml: cluster("  etcd:\n    endpoints:\n      - http://198.18.9.1:2379/v3\n"), line: 10, phrase: "is not an etcd client URL"),
    BrokenCase(name: "endpoint twice", yaml: cluster("  etcd:\n    endpoints:\n      - http://198.18.9.1:2379\n      - http://198.18.9.1:2379\n"), line: 11, phrase: "listed twice"),
    BrokenCase(name: "unknown etcd key", yaml: cluster(minimal + "    user: root\n"), line: 10, phrase: "unknown key \"user\"; allowed keys: endpoints, tls, username, password"),
    BrokenCase(name: "username without password", yaml: cluster(minimal + "    username: proxyarpd\n"), line: 10, phrase: "\"username\" needs \"password\" too"),
    BrokenCase(name: "tls without ca", yaml: cluster(minimal + "    tls:\n      cert: /etc/c.pem\n      key: /etc/k.pem\n"), line: 11, phrase: "missing required key \"ca\""),
    BrokenCase(name: "tls cert without key", yaml: cluster(minimal + "    tls:\n      ca: /etc/ca.pem\n      cert: /etc/c.pem\n"), line: 11, phrase: "\"cert\" and \"key\" go together"),
    BrokenCase(name: "tls relative ca", yaml: cluster(minimal + "    tls:\n      ca: ca.pem\n"), line: 11, phrase: "not an absolute path"),
    BrokenCase(name: "lease_ttl below 1s", yaml: cluster(minimal + "  lease_ttl: 500ms\n"), line: 10, phrase: "500ms must be whole seconds between 1s and 60s"),
    BrokenCase(name: "lease_ttl fractional", yaml: cluster(minimal + "  lease_ttl: 1.5s\n"), line: 10, phrase: "must be whole seconds"),
    BrokenCase(name: "key_prefix without slashes", yaml: cluster(minimal + "  key_prefix: proxyarpd\n"), line: 10, phrase: "must start and end with \"/\""),
    BrokenCase(name: "unknown quorum policy", yaml: cluster(minimal + "  on_quorum_loss: panic\n"), line: 10, phrase: "\"panic\" is not a policy: use one of fence, hold"),
    BrokenCase(name: "rebalance_after not a duration", yaml: cluster(minimal + "  rebalance_after: soon\n"), line: 10, phrase: "\"soon\" is not a duration"),
    BrokenCase(name: "rebalance_after above 1h", yaml: cluster(minimal + "  rebalance_after: 2h\n"), line: 10, phrase: "2h is longer than 1h; write off to never rebalance"),
    BrokenCase(name: "empty host", yaml: cluster(minimal + "  host: \"\"\n"), line: 10, phrase: "must not be empty"),
    BrokenCase(name: "unknown cluster key", yaml: cluster(minimal + "  ttl: 1s\n"), line: 10, phrase: "unknown key \"ttl\"; allowed keys: etcd, host, lease_ttl"),
    BrokenCase(
        name: "preferred_hosts without cluster", yaml: "adapters:\n  - name: eth0\nvips:\n  - address: 198.18.0.100\n    preferred_hosts: [a]\n",
        line: 4, phrase: "preferred_hosts needs a \"cluster:\" section"),
    BrokenCase(name: "preferred_hosts twice", yaml: start.replacingOccurrences(of: "[alpha, beta]", with: "[alpha, alpha]") + "cluster:\n" + minimal, line: 6, phrase: "\"alpha\" is listed twice"),
]

@Suite struct ClusterSectionTests {
    @Test(arguments: brokenClusterCases)
    func reportsLineAndReason(_ broken: BrokenCase) {
        let errors = loadErrors(broken.yaml)
        #expect(errors.count == 1, "\(errors)")
        #expect(errors.first?.line == broken.line, "\(errors)")
        #expect(errors.first?.reason.contains(broken.phrase) == true, "\(errors)")
    }

    @Test func absentSectionIsSingleHost() throws {
        let configuration = try ConfigurationLoader.load(yaml: "adapters:\n  - name: eth0\nvips:\n  - address: 198.18.0.100\n", fileName: "t.yaml")
        #expect(configuration.cluster == nil)
        #expect(configuration.vips.first?.preferredHosts == [])
    }

    @Test func minimalSectionTakesDefaults() throws {
        let configuration = try ConfigurationLoader.load(yaml: cluster(minimal), fileName: "t.yaml")
        let cluster = try #require(configuration.cluster)
        #expect(cluster.etcd.endpoints == ["http://198.18.9.1:2379"])
        #expect(cluster.leaseTTL == .seconds(1))
        #expect(cluster.keyPrefix == "/proxyarpd/")
        #expect(cluster.onQuorumLoss == .fence)
        #expect(cluster.rebalanceAfter == .seconds(3))
        #expect(!cluster.host.isEmpty)
        #expect(configuration.vips.first?.preferredHosts == ["alpha", "beta"])
    }

    @Test func everyKeyIsRead() throws {
        let body = """
              etcd:
                endpoints:
                  - https://198.18.9.1:2379
                  - https://198.18.9.2:2379/
                tls:
                  ca: /etc/proxyarpd/ca.pem
                  cert: /etc/proxyarpd/client.pem
                  key: /etc/proxyarpd/client-key.pem
                username: proxyarpd
                password: s3cret
              host: alpha
              lease_ttl: 2s
              key_prefix: /proxyarpd/lan1/
              on_quorum_loss: hold
              rebalance_after: 10s

            """
        let cluster = try #require(try ConfigurationLoader.load(yaml: cluster(body), fileName: "t.yaml").cluster)
        #expect(cluster.etcd.endpoints == ["https://198.18.9.1:2379", "https://198.18.9.2:2379"])
        #expect(cluster.etcd.tls == EtcdTLSConfiguration(caFile: "/etc/proxyarpd/ca.pem", certificateFile: "/etc/proxyarpd/client.pem", keyFile: "/etc/proxyarpd/client-key.pem"))
        #expect(cluster.etcd.username == "proxyarpd")
        #expect(cluster.etcd.password == "s3cret")
        #expect(cluster.host == "alpha")
        #expect(cluster.leaseTTL == .seconds(2))
        #expect(cluster.keyPrefix == "/proxyarpd/lan1/")
        #expect(cluster.onQuorumLoss == .hold)
        #expect(cluster.rebalanceAfter == .seconds(10))
    }

    @Test func rebalanceOff() throws {
        let cluster = try #require(try ConfigurationLoader.load(yaml: cluster(minimal + "  rebalance_after: off\n"), fileName: "t.yaml").cluster)
        #expect(cluster.rebalanceAfter == .zero)
    }
}
