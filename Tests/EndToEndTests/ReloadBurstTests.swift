import Foundation
import ProxyARPCore
import ProxyARPTestSupport
import Testing

/// Issue 11, failure 6: a burst of SIGHUPs alternating two files. Before, 100 SIGHUPs were
/// applied one by one (816 ARP frames in 1.5 s, two VIPs announced from two MACs).
@Suite("End to end: reload bursts are coalesced", .serialized, .enabled(if: endToEndEnabled))
struct ReloadBurstTests {
    @Test("100 SIGHUPs alternating two files: a handful of reloads, kept VIPs silent, one MAC per VIP, the last file applied")
    func burstOfSIGHUPs() async throws {
        let first = ["198.18.0.100", "198.18.0.101", "198.18.0.102"]
        let second = ["198.18.0.101", "198.18.0.102", "198.18.0.103"]
        try await DaemonLab.with("e2eb", vips: first) { daemon in
            _ = try await daemon.waitForAnswers(daemon.vips)
            try await Task.sleep(for: .seconds(3))  // the first announcement rounds are over
            let capture = try await ClientCapture.start(daemon.lab, directory: daemon.directory, name: "burst")
            let files = [first, second].map { daemon.lab.configurationYAML(vips: $0, directory: daemon.directory) }
            // Bounded: 100 signals, 5 ms apart; the 100th names the second file.
            for index in 0..<100 {
                try files[index % 2 == 0 ? 0 : 1].write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
                daemon.daemon.send(SIGHUP)
                try await Task.sleep(for: .milliseconds(5))
            }
            let added = IPv4Address("198.18.0.103")!
            let answered = try await daemon.waitForAnswers([added])
            #expect(answered[added] != nil)
            try await Task.sleep(for: .seconds(4))  // the added VIP's announcement rounds
            let frames = try await capture.stop().arpFrames

            let reloads = daemon.log.components(separatedBy: "reload applied").count - 1
            var announcements: [IPv4Address: Int] = [:]
            var macs: [IPv4Address: Set<MACAddress>] = [:]
            for (_, frame) in frames where frame.isGratuitous {
                announcements[frame.arp.senderIP, default: 0] += 1
                macs[frame.arp.senderIP, default: []].insert(frame.arp.senderMAC)
            }
            print("reload burst: \(reloads) reloads applied for 100 SIGHUPs; \(frames.count) ARP frames; gratuitous per VIP \(announcements); MACs per VIP \(macs.mapValues(\.count))")
            #expect(reloads >= 1 && reloads <= 5, "\(reloads) reloads applied")
            for kept in ["198.18.0.101", "198.18.0.102"].compactMap(IPv4Address.init) {
                #expect(announcements[kept, default: 0] == 0, "\(kept) stayed where it was: no announcement")
            }
            for (vip, seen) in macs { #expect(seen.count == 1, "\(vip) announced from \(seen)") }
            #expect(announcements.values.allSatisfy { $0 <= 12 }, "\(announcements)")
            let onLoopback = try await daemon.loopbackVIPs()
            #expect(onLoopback == Set(second.compactMap(IPv4Address.init)), "the last file is applied: \(onLoopback)")
        }
    }
}
