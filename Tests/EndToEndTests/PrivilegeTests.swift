import Foundation
import ProxyARPCore
import ProxyARPTestSupport
import Testing

/// The switch to `daemon.user: nobody` keeping CAP_NET_RAW and CAP_NET_ADMIN.
@Suite("least privilege: the real daemon as nobody", .serialized, .enabled(if: endToEndEnabled))
struct PrivilegeTests {
    @Test("runs as nobody with CapEff = CapPrm = 0x3000, still answers, fails over and writes its trace")
    func dropsToNobody() async throws {
        let stateDirectory = NSTemporaryDirectory() + "proxyarpd-priv-state-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: stateDirectory) }
        try await DaemonLab.with(
            "priv", vips: ["198.18.0.100"],
            extraConfig: "daemon:\n  user: nobody\n  state_directory: \(stateDirectory)\n", fastPath: "xdp"
        ) { daemon in
            let vip = IPv4Address("198.18.0.100")!
            let answers = try await daemon.waitForAnswers([vip])
            let oldMAC = try #require(answers[vip]?.first)
            let pid = try #require(daemon.daemon.processIdentifier)
            // The drop runs right after startup; wait for its log line (bounded).
            for _ in 0..<100 where !daemon.log.contains("privileges dropped") { try await Task.sleep(for: .milliseconds(50)) }
            #expect(daemon.log.contains("privileges dropped"))

            let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
            #expect(Self.field("Uid", in: status) == "65534\t65534\t65534\t65534")
            #expect(Self.field("Gid", in: status) == "65534\t65534\t65534\t65534")
            #expect(Self.field("CapEff", in: status) == "0000000000003000")
            #expect(Self.field("CapPrm", in: status) == "0000000000003000")
            #expect(Self.field("CapInh", in: status) == "0000000000000000")
            // Every other thread: nobody too, and never more than the leader.
            let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")
            #expect(tasks.count > 1)
            for task in tasks {
                guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/status", encoding: .utf8) else { continue }
                #expect(Self.field("Uid", in: text) == "65534\t65534\t65534\t65534", "thread \(task)")
                let effective = UInt64(Self.field("CapEff", in: text) ?? "", radix: 16) ?? .max
                #expect(effective & ~0x3000 == 0, "thread \(task) holds \(String(effective, radix: 16))")
            }

            // Still answers and still fails over (rtnetlink + pcap after the drop).
            let oldAgent = try #require(daemon.lab.adapter(owning: oldMAC))
            try await Task.sleep(for: .seconds(3))
            try await daemon.lab.cutCarrier(oldAgent.name)
            var newMAC: MACAddress?
            for _ in 0..<20 where newMAC == nil {
                newMAC = try await daemon.lab.arping(vip, count: 1, timeoutSeconds: 1).first { $0 != oldMAC }
            }
            #expect(newMAC != nil && newMAC != oldMAC)
            #expect(daemon.log.contains("VIP failed over"))
            // The link monitor's thread (no capability left) announced the standby through the
            // packet socket opened as root: sending on it needs no capability.
            #expect(daemon.log.contains("standby agent announced ahead of the control plane"))
            #expect(!daemon.log.contains("standby announcement not sent"))
            #expect(try await daemon.loopbackVIPs().contains(vip))
            // XDP (forced: the lab's switch ports run XDP_PASS): its maps follow the failover after the drop
            // (map writes go through descriptors opened as root and need no capability).
            #expect(daemon.log.contains("answering in xdp"))
            #expect(!daemon.log.contains("xdp: map update failed"), "\(daemon.log.split(separator: "\n").filter { $0.contains("xdp") })")

            // The trace dump lands in the state directory the user now owns.
            daemon.daemon.send(SIGUSR1)
            var dumped = false
            for _ in 0..<50 where !dumped {
                try await Task.sleep(for: .milliseconds(100))
                dumped = ((try? FileManager.default.contentsOfDirectory(atPath: stateDirectory)) ?? []).contains { $0.hasPrefix("trace-") }
            }
            #expect(dumped)
            let owner = try FileManager.default.attributesOfItem(atPath: stateDirectory)[.ownerAccountID] as? NSNumber
            #expect(owner?.intValue == 65534)
        }
    }

    static func field(_ name: String, in status: String) -> String? {
        status.split(separator: "\n").first { $0.hasPrefix(name + ":") }.map {
            String($0.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces)
        }
    }
}
