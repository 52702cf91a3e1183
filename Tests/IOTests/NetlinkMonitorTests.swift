import Foundation
import Glibc
import ProxyARPCore
import ProxyARPIO
import ProxyARPTestSupport
import Testing

@Suite("Netlink link monitor (root, in a network namespace)", .serialized, .enabled(if: getuid() == 0))
struct NetlinkMonitorTests {
    /// `ifindex` and MAC of `name` in the lab, from `ip -o link show`.
    static func indexAndMAC(of name: String, in lab: LabNamespace) async throws -> (Int32, MACAddress) {
        let line = try await lab.ip("-o", "link", "show", "dev", name)
        let index = Int32(line.prefix(while: { $0 != ":" }))!
        let words = line.split(separator: " ")
        let mac = words.firstIndex(of: "link/ether").map { MACAddress(String(words[$0 + 1]))! }!
        return (index, mac)
    }

    @Test("Start dump, carrier loss, admin down, addresses, removal")
    func followsOneAdapter() async throws {
        let lab = try await LabNamespace.make()
        defer { lab.destroy() }
        try await lab.addVeth("a0", peer: "p0", address: "198.18.10.10/24")
        let (index, mac) = try await Self.indexAndMAC(of: "a0", in: lab)

        let monitor = NetlinkLinkMonitor(names: ["a0"], namespacePath: lab.path)
        defer { monitor.stop() }
        let recorder = LinkEventRecorder(monitor.events())
        defer { recorder.cancel() }

        // The start dump; RUNNING may follow link up by up to ~1 s (linkwatch).
        let first = try #require(await recorder.wait { $0.state(of: "a0") != nil })
        let initial = try #require(first.event.state(of: "a0"))
        #expect(initial.index == index)
        #expect(initial.mac == mac)
        #expect(initial.adminUp)
        #expect(initial.interfaces == [IPv4Interface("198.18.10.10/24")!])
        #expect(await recorder.wait { $0.state(of: "a0")?.carrier == true } != nil)

        // Carrier loss: the peer goes down, a0 stays admin up.
        var mark = recorder.count
        let beforeCommand = ContinuousClock.now
        try await lab.ip("link", "set", "p0", "down")
        let afterCommand = ContinuousClock.now
        let lost = try #require(await recorder.wait(from: mark) { $0.state(of: "a0")?.carrier == false })
        #expect(lost.event.state(of: "a0")?.adminUp == true)
        print("carrier loss → event: \(lost.at - beforeCommand) after starting `ip link set p0 down`, "
            + "\(lost.at - afterCommand) after it exited")

        // Carrier back.
        mark = recorder.count
        try await lab.ip("link", "set", "p0", "up")
        #expect(await recorder.wait(from: mark) { $0.state(of: "a0")?.carrier == true } != nil)

        // Admin down.
        mark = recorder.count
        try await lab.ip("link", "set", "a0", "down")
        let down = try #require(await recorder.wait(from: mark) { $0.state(of: "a0")?.adminUp == false })
        #expect(down.event.state(of: "a0")?.carrier == false)
        try await lab.ip("link", "set", "a0", "up")

        // A second address: primary first, then the new one.
        mark = recorder.count
        try await lab.ip("addr", "add", "198.18.11.10/24", "dev", "a0")
        let added = try #require(await recorder.wait(from: mark) {
            $0.state(of: "a0")?.interfaces.contains(IPv4Interface("198.18.11.10/24")!) == true
        })
        #expect(added.event.state(of: "a0")?.interfaces.first == IPv4Interface("198.18.10.10/24")!)

        // Address removed.
        mark = recorder.count
        try await lab.ip("addr", "del", "198.18.10.10/24", "dev", "a0")
        #expect(await recorder.wait(from: mark) {
            $0.state(of: "a0")?.interfaces == [IPv4Interface("198.18.11.10/24")!]
        } != nil)

        // Link deleted.
        mark = recorder.count
        try await lab.ip("link", "del", "a0")
        #expect(await recorder.wait(from: mark) { $0 == .removed("a0") } != nil)

        // Only the named adapter was reported.
        #expect(recorder.events.allSatisfy { event in
            switch event {
            case .changed(let state): state.name == "a0"
            case .removed(let name): name == "a0"
            }
        })
    }

    @Test("Without a filter every link is reported, lo included; stop() ends the stream")
    func everyLinkAndStop() async throws {
        let lab = try await LabNamespace.make()
        defer { lab.destroy() }
        try await lab.addVeth("b0", peer: "q0")

        let monitor = NetlinkLinkMonitor(namespacePath: lab.path)
        let stream = monitor.events()
        var seen = Set<AdapterName>()
        var iterator = stream.makeAsyncIterator()
        for _ in 0..<10 where seen.count < 3 {
            if case .changed(let state)? = await iterator.next() { seen.insert(state.name) }
        }
        #expect(seen == ["lo", "b0", "q0"])

        monitor.stop()
        // The stream finishes once the thread has ended (bounded: at most a few queued events).
        var finished = false
        for _ in 0..<20 {
            if await iterator.next() == nil {
                finished = true
                break
            }
        }
        #expect(finished)

        // events() a second time gives a finished stream.
        var again = monitor.events().makeAsyncIterator()
        #expect(await again.next() == nil)
    }

    @Test("A namespace that does not exist ends the stream")
    func missingNamespace() async {
        let monitor = NetlinkLinkMonitor(namespacePath: "/var/run/netns/nlk-missing-\(getpid())")
        var iterator = monitor.events().makeAsyncIterator()
        #expect(await iterator.next() == nil)
        monitor.stop()
    }
}

@Suite("Netlink link monitor overflow (root, in a network namespace)", .serialized, .enabled(if: getuid() == 0))
struct NetlinkMonitorOverflowTests {
    @Test("A burst into a tiny socket buffer: after any ENOBUFS resync every link is known")
    func burstIntoTinyBuffer() async throws {
        let lab = try await LabNamespace.make()
        defer { lab.destroy() }
        // The kernel raises 1 byte to its minimum (a few KiB): two or three messages.
        let monitor = NetlinkLinkMonitor(namespacePath: lab.path, receiveBufferSize: 1)
        defer { monitor.stop() }
        let recorder = LinkEventRecorder(monitor.events())
        defer { recorder.cancel() }
        #expect(await recorder.wait { $0.state(of: "lo") != nil } != nil)

        // 20 veth pairs (40 links), all up, from one `ip -batch` process (no dummy module here).
        let batch = (0..<20).map {
            "link add z\($0) type veth peer name z\($0 + 20)\nlink set z\($0) up\nlink set z\($0 + 20) up\n"
        }.joined()
        let file = "/tmp/\(lab.name).batch"
        try batch.write(toFile: file, atomically: true, encoding: .utf8)
        defer { unlink(file) }
        try await lab.ip("-batch", file)

        // Bounded: every new link must end up reported as admin up.
        var up = Set<String>()
        for _ in 0..<400 where up.count < 40 {
            up = Set(recorder.events.compactMap { event -> String? in
                if case .changed(let state) = event, state.name.rawValue.hasPrefix("z"), state.adminUp {
                    return state.name.rawValue
                }
                return nil
            })
            if up.count < 40 { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(up.count == 40)
        print("burst of 40 links into a tiny buffer: \(monitor.resynchronisations) ENOBUFS resync(s)")
    }
}
