import Foundation
import ProxyARPConfig
import ProxyARPCore
import Testing

@Suite struct ExampleConfigurationTests {
    let path = packageRoot.appendingPathComponent("proxyarpd.example.yaml").path

    @Test func exampleLoadsWithTheDocumentedValues() throws {
        let configuration = try ConfigurationLoader.load(path: path)

        #expect(configuration.adapters == [
            AdapterConfiguration(name: "eth0", expectedAddress: IPv4Interface("198.18.0.10/24")),
            AdapterConfiguration(name: "eth1", expectedAddress: IPv4Interface("198.18.0.11/24")),
            AdapterConfiguration(name: "eth2", expectedAddress: IPv4Interface("192.0.2.10/24")),
        ])
        // 1 address + 21 in the range + 16 in the /28 + 1 address.
        #expect(configuration.vips.count == 39)
        #expect(configuration.vips[0] == VIPConfiguration(address: ip("198.18.0.100"), preferred: ["eth1", "eth0"], preempt: true))
        #expect(configuration.vips[1] == VIPConfiguration(address: ip("198.18.0.120")))
        #expect(configuration.vips[21] == VIPConfiguration(address: ip("198.18.0.140")))
        #expect(configuration.vips[22] == VIPConfiguration(address: ip("198.18.2.0"), preferred: ["eth0"]))
        #expect(configuration.vips[37] == VIPConfiguration(address: ip("198.18.2.15"), preferred: ["eth0"]))
        #expect(configuration.vips[38] == VIPConfiguration(address: ip("192.0.2.100")))

        #expect(configuration.timers == TimerConfiguration(
            announceCount: 3, announceInterval: .milliseconds(1200), confirmTimeout: .milliseconds(250),
            confirmRetries: 2, refreshInterval: nil, holdDown: .seconds(2), preemptDelay: .seconds(5)))
        #expect(configuration.control == ControlConfiguration(socketPath: "/run/proxyarpd/control.sock", group: "proxyarpd"))
        #expect(configuration.metrics == MetricsConfiguration(host: "127.0.0.1", port: 9469))
        #expect(configuration.daemon == DaemonSettings(
            user: "proxyarpd", stateDirectory: "/var/lib/proxyarpd", removeVIPsOnExit: true, traceCapacity: 16_384))
    }

    @Test func exampleUsesOnlyDocumentationAddresses() throws {
        let configuration = try ConfigurationLoader.load(path: path)
        let allowed = [IPv4Subnet("198.18.0.0/15")!, IPv4Subnet("192.0.2.0/24")!]
        for vip in configuration.vips {
            let documentation = vip.address.ipv4.map { address in allowed.contains { $0.contains(address) } }
                ?? IPv6Prefix("2001:db8::/32")!.contains(vip.address.ipv6!)
            #expect(documentation, "\(vip.address)")
        }
    }

    @Test func summaryNamesAdaptersCountAndTimers() throws {
        let summary = try ConfigurationLoader.load(path: path).summary
        #expect(summary == "3 adapters (eth0, eth1, eth2), 39 VIPs, announce 3 x 1200ms, confirm 250ms x 2 retries, refresh off, hold-down 2s, preempt delay 5s, metrics 127.0.0.1:9469")
    }

    @Test func minimalFileGetsAllDefaults() throws {
        let configuration = try ConfigurationLoader.load(yaml: """
            adapters:
              - name: eth0
            vips:
              - address: 198.18.0.100
            """, fileName: "minimal.yaml")
        #expect(configuration == DaemonConfiguration(
            adapters: [AdapterConfiguration(name: "eth0")],
            vips: [VIPConfiguration(address: ip("198.18.0.100"))]))
    }

    @Test func optionalSpellingsAreAccepted() throws {
        let configuration = try ConfigurationLoader.load(yaml: """
            adapters:
              - name: eth0
            vips:
              - address: 198.18.0.100
            timers:
              announce_interval: 1.5s
              refresh_interval: 5m
              hold_down: 0
              preempt_delay: 0s
            metrics:
              listen: "[::1]:0"
            daemon:
              trace_capacity: 1_000_000
            selection:
              block_prefix_length: 26
            conflicts:
              policy: yield
              defend_interval: 5s
              retry_after: 2m
              probe_wait: 0
            """, fileName: "spellings.yaml")
        #expect(configuration.timers.announceInterval == .milliseconds(1500))
        #expect(configuration.timers.refreshInterval == .seconds(300))
        #expect(configuration.timers.holdDown == .zero)
        #expect(configuration.timers.preemptDelay == .zero)
        #expect(configuration.metrics == MetricsConfiguration(host: "::1", port: 0))
        #expect(configuration.daemon.traceCapacity == 1_000_000)
        #expect(configuration.selection.blockPrefixLength == 26)
        #expect(configuration.conflicts == ConflictConfiguration(policy: .yield, defendInterval: .seconds(5), retryAfter: .seconds(120), probeWait: .zero))
    }

    @Test func unreadableFileGivesOneErrorWithoutLine() {
        do {
            _ = try ConfigurationLoader.load(path: "/nonexistent/proxyarpd.yaml")
            Issue.record("a missing file loaded")
        } catch {
            #expect(error.errors.count == 1)
            #expect(error.errors.first?.line == 0)
            #expect(error.description.hasPrefix("/nonexistent/proxyarpd.yaml: cannot read the file"))
        }
    }
}
