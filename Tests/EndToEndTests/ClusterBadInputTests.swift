import Foundation
import ProxyARPCore
import ProxyARPTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Keys and values under the cluster prefix that no proxyarpd wrote.
extension ClusterEndToEndTests {
    /// Writes `value` at `key` (raw bytes both) through etcd's JSON gateway, without a lease, as an operator's tool would.
    static func handWrite(_ lab: ClusterLab, key: [UInt8], value: [UInt8]) async throws {
        let body = #"{"key":"\#(Data(key).base64EncodedString())","value":"\#(Data(value).base64EncodedString())"}"#
        let result = try await lab.etcd.lab.exec(
            lab.etcd.namespace, "curl", lab.etcd.curlTLS + ["-s", "-m", "3", "-X", "POST", "-d", body, "\(lab.etcd.endpoints[0])/v3/kv/put"])
        #expect(result.output.contains("revision"), "put \(key): \(result.output)")
    }

    @Test("bad input under the prefix (values and keys no host wrote, a hand-written copy of a held key) is logged and ignored; every VIP stays answered")
    func badInputUnderThePrefixIsIgnored() async throws {
        try await Self.withLab("badinput", hosts: 2) { lab, daemons in
            let vips = Array(Self.vips.prefix(4))
            for index in 0..<2 { try daemons.start(index, vips: vips) }
            let owners = try await Self.settledOwners(lab, vips: vips)
            try #require(owners.count == vips.count, "owners: \(owners)")
            let probe = try await ClusterProbe.start(lab, daemons: daemons, vips: vips, name: "badinput")
            let start = Self.wallClock
            let prefix = Array("/proxyarpd/\(lab.etcd.lab.prefix)/".utf8)
            let notText: [UInt8] = [0xff, 0xfe, 0x00, 0x80]
            let writes: [(String, [UInt8], [UInt8])] = [
                ("a key beside units/ and hosts/ with a binary value", prefix + Array("junk".utf8), notText),
                ("a key that is not UTF-8", prefix + Array("units/".utf8) + [0xff, 0xfe], Array("x".utf8)),
                ("an empty unit name", prefix + Array("units/".utf8), Array("host0".utf8)),
                ("a unit no host has configured", prefix + Array("units/198.18.0.250".utf8), Array("mallory".utf8)),
                ("a unit name that is no address", prefix + Array("units/not-an-address".utf8), notText),
                ("a membership key without a lease", prefix + Array("hosts/ghost".utf8), notText),
                ("a held unit key overwritten by hand (no lease, another value)", prefix + Array("units/\(vips[0])".utf8), Array("mallory".utf8)),
            ]
            for (_, key, value) in writes {
                try await Self.handWrite(lab, key: key, value: value)
                try await Task.sleep(for: .milliseconds(300))
            }
            try await Task.sleep(for: .seconds(1))
            // A host restarted now reads all of it in its first list, not from the watch.
            let restarted = owners[vips[1]]!
            await daemons[restarted].stop()
            try daemons.start(restarted, vips: vips)
            try await Task.sleep(for: .seconds(3))
            let after = try await Self.settledOwners(lab, vips: vips, seconds: 10)
            let end = Self.wallClock
            let log = await probe.stop()

            for index in 0..<2 { #expect(daemons[index].isRunning, "host \(index) died:\n\(daemons.log(index).suffix(3000))") }
            #expect(after.count == vips.count, "after the bad input: \(after)")
            var unanswered = 0
            var maxGap = 0.0
            for vip in vips {
                #expect(log.duplicates(vip).isEmpty, "\(vip): \(log.duplicates(vip).prefix(3))")
                maxGap = max(maxGap, log.maxGap(vip, from: start, to: end))
            }
            // Until the restart every probe was answered (the restart moves the restarted host's VIPs).
            let restartAt = start + Double(writes.count) * 0.3 + 1.0
            for vip in vips { unanswered += log.unanswered(vip, from: start, to: restartAt) }
            #expect(unanswered == 0, "\(unanswered) probes unanswered while the bad input arrived")
            // The overwritten key holds a host's claim again (with a lease), not the hand-written value.
            let value = try await lab.etcd.etcdctl(["get", "/proxyarpd/\(lab.etcd.lab.prefix)/units/\(vips[0])", "--print-value-only"]).output
            #expect(value.hasPrefix("host"), "units/\(vips[0]) = \(value)")
            let combined = daemons.log(0) + daemons.log(1)
            #expect(combined.contains("ignoring") || combined.contains("not ours"), "nothing logged about the bad input")
            Self.report("bad input", "\(writes.count) hand writes: max answer gap \(Int(maxGap)) ms, \(unanswered) probes unanswered before the restart")
        }
    }
}
