import CLinuxNet
import Glibc
import ProxyARPCore
@testable import ProxyARPIO
import ProxyARPTestSupport
import Testing

/// How long a carrier loss takes to reach the stream, measured from the moment the test
/// sends its own `RTM_NEWLINK` (peer admin down) to the moment the consumer task receives
/// the event. Printed, never asserted (ARCHITECTURE.md §9).
@Suite("Netlink carrier-loss latency (root, in a network namespace)", .serialized, .enabled(if: getuid() == 0))
struct NetlinkLatencyTests {
    static func setAdmin(_ up: Bool, index: Int32, on socket: inout NetlinkSocket) throws {
        var request = NetlinkRequest(type: UInt16(RTM_NEWLINK), flags: 0, label: "RTM_NEWLINK \(index) \(up ? "up" : "down")")
        var header = ifinfomsg()
        header.ifi_family = UInt8(AF_UNSPEC)
        header.ifi_index = index
        header.ifi_flags = up ? UInt32(IFF_UP) : 0
        header.ifi_change = UInt32(IFF_UP)
        request.append(header: header)
        try socket.execute(request)
    }

    @Test("Carrier loss → event latency")
    func carrierLossLatency() async throws {
        let lab = try await LabNamespace.make()
        defer { lab.destroy() }
        try await lab.addVeth("l0", peer: "m0")
        let peerIndex = Int32(try await lab.ip("-o", "link", "show", "dev", "m0").prefix(while: { $0 != ":" }))!
        let path = lab.path
        let fd = try NetworkNamespace.run(in: path) { () throws(NetlinkError) -> Int32 in
            try NetlinkSocket.openDescriptor(groups: 0, receiveBufferSize: nil)
        }
        var socket = NetlinkSocket(adopting: fd)

        let monitor = NetlinkLinkMonitor(names: ["l0"], namespacePath: path)
        defer { monitor.stop() }
        let recorder = LinkEventRecorder(monitor.events())
        defer { recorder.cancel() }
        #expect(await recorder.wait { $0.state(of: "l0")?.carrier == true } != nil)

        var samples: [Duration] = []
        for _ in 0..<5 {
            let mark = recorder.count
            let start = ContinuousClock.now
            try Self.setAdmin(false, index: peerIndex, on: &socket)
            let lost = try #require(await recorder.wait(from: mark) { $0.state(of: "l0")?.carrier == false })
            samples.append(lost.at - start)
            let again = recorder.count
            try Self.setAdmin(true, index: peerIndex, on: &socket)
            // Carrier-on goes through linkwatch: up to ~1 s.
            #expect(await recorder.wait(from: again, seconds: 5) { $0.state(of: "l0")?.carrier == true } != nil)
        }
        samples.sort()
        print("carrier loss → event, 5 samples: min \(samples.first!), median \(samples[2]), max \(samples.last!)")
    }
}
