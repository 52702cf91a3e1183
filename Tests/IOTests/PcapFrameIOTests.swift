import Foundation
import Glibc
import ProxyARPCore
import ProxyARPIO
import ProxyARPTestSupport
import Testing

/// Live tests over veth pairs and a bridge in a namespace of their own. Root only;
/// serialized so that the process-wide handle count and descriptor checks are exact.
@Suite("pcap frame I/O on a namespace lab", .serialized, .enabled(if: getuid() == 0, "needs root for namespaces and pcap"))
struct PcapFrameIOTests {
    static let vip = IPv4Address(198, 18, 77, 10)
    static let absentVIP = IPv4Address(198, 18, 77, 99)
    static let announcedVIP = IPv4Address(198, 18, 77, 20)

    /// Opens frame I/O on the lab adapters (both unless `onlyA`), runs `body`, and shuts it
    /// down whatever happens.
    /// Publishes a table in which `agent` answers for `vip` alone (its MAC, as `macA`) and
    /// every adapter of `io` is ours.
    func publish(_ vip: IPv4Address, answeredBy agent: AdapterName, mac macA: MACAddress, in io: PcapFrameIO, generation: UInt64 = 1) {
        io.answerTable.publish(AnswerTable(
            generation: generation,
            proxyLists: [agent: ProxyList(agentMAC: macA, vips: [vip])],
            watchedVIPs: [vip],
            ownMACs: Set(io.macs.values)
        ))
    }

    /// With `narrowing` false (the default here) the captures keep the plain `arp` filter,
    /// so the counters see every request (the narrowed filter has a test of its own).
    func withFrameIO<T>(
        _ lab: SegmentLab, onlyA: Bool = false, narrowing: Bool = false, quietPeriod: Duration = .milliseconds(200),
        _ body: (PcapFrameIO) async throws -> T
    ) async throws -> T {
        let names = onlyA ? [lab.adapterA] : [lab.adapterA, lab.adapterB]
        var options = PcapOptions()
        options.narrowsFilter = narrowing
        options.filterQuietPeriod = quietPeriod
        let io = try PcapFrameIO(adapters: names.map { AdapterName($0) }, options: options)
        io.start()
        do {
            let result = try await body(io)
            await io.shutdown()
            return result
        } catch {
            await io.shutdown()
            throw error
        }
    }

    @Test("Answers arping for a published VIP from the agent's MAC, and not for other addresses")
    func answersPublishedVIP() async throws {
        try await SegmentLab.with { lab in
            try await withFrameIO(lab) { io in
                let a = AdapterName(lab.adapterA)
                let b = AdapterName(lab.adapterB)
                let macA = try #require(io.mac(of: a))
                publish(Self.vip, answeredBy: a, mac: macA, in: io)

                let answered = try await lab.inClient(["arping", "-c", "3", "-w", "5", "-I", "br0", "\(Self.vip)"])
                #expect(answered.exitCode == 0, "\(answered.output)")
                #expect(answered.output.lowercased().contains("[\(macA)]"), "\(answered.output)")

                let unanswered = try await lab.inClient(["arping", "-c", "2", "-w", "3", "-I", "br0", "\(Self.absentVIP)"])
                #expect(unanswered.exitCode != 0, "\(unanswered.output)")
                #expect(unanswered.output.contains("Received 0 response"), "\(unanswered.output)")

                let countersA = try #require(io.counters(for: a))
                let countersB = try #require(io.counters(for: b))
                #expect(countersA.requestsSeen >= 5)
                #expect(countersA.repliesSent >= 3)
                #expect(countersA.repliesSent < countersA.requestsSeen)
                #expect(countersA.injectErrors == 0)
                #expect(countersA.ignored[.targetNotOurs, default: 0] >= 2)
                #expect(countersA.batches >= 1 && countersA.largestBatch >= 1)
                // After the first reply arping sends its requests unicast to A's MAC (answered
                // too: unicast to the agent is allowed), so the bridge no longer floods them to
                // B: B sees the first request for the VIP and the two for the absent address.
                #expect(countersB.repliesSent == 0)
                #expect(countersB.requestsSeen >= 3)
                #expect(countersB.ignored[.targetNotOurs, default: 0] >= 3)
            }
        }
    }

    @Test("Narrowed filters: the agent still answers, requests it would ignore no longer reach either capture")
    func narrowedFilters() async throws {
        try await SegmentLab.with { lab in
            try await withFrameIO(lab, narrowing: true) { io in
                let a = AdapterName(lab.adapterA)
                let b = AdapterName(lab.adapterB)
                let macA = try #require(io.mac(of: a))
                publish(Self.vip, answeredBy: a, mac: macA, in: io)
                try await Task.sleep(for: .milliseconds(800))  // quiet period 200 ms, then narrowed
                let before = (a: try #require(io.counters(for: a)), b: try #require(io.counters(for: b)))

                let answered = try await lab.inClient(["arping", "-c", "3", "-w", "5", "-I", "br0", "\(Self.vip)"])
                #expect(answered.exitCode == 0, "\(answered.output)")
                #expect(answered.output.lowercased().contains("[\(macA)]"), "\(answered.output)")
                let unanswered = try await lab.inClient(["arping", "-c", "2", "-w", "3", "-I", "br0", "\(Self.absentVIP)"])
                #expect(unanswered.output.contains("Received 0 response"), "\(unanswered.output)")

                let after = (a: try #require(io.counters(for: a)), b: try #require(io.counters(for: b)))
                #expect(after.a.repliesSent - before.a.repliesSent >= 3)
                // The absent address's requests were dropped by both kernels' filters, and B,
                // which serves nothing, no longer sees the VIP's first (broadcast) request.
                #expect(after.a.ignored[.targetNotOurs, default: 0] == before.a.ignored[.targetNotOurs, default: 0])
                #expect(after.b.requestsSeen == before.b.requestsSeen)

                // A new table widens at once: B becomes the agent and answers right away.
                let macB = try #require(io.mac(of: b))
                publish(Self.vip, answeredBy: b, mac: macB, in: io, generation: 2)
                let moved = try await lab.inClient(["arping", "-c", "2", "-w", "5", "-I", "br0", "\(Self.vip)"])
                #expect(moved.output.lowercased().contains("[\(macB)]"), "\(moved.output)")
            }
        }
    }

    @Test("An adapter serving 521 separate ranges narrows its filter; the kernel takes the binary search and it answers")
    func narrowsAtScale() async throws {
        // As at 100,000 VIPs over three adapters: A serves 521 ranges (every 4th address from
        // 198.18.80.0; watched: the same 521), B serves none and watches them.
        try await SegmentLab.with { lab in
            try await withFrameIO(lab, narrowing: true) { io in
                let a = AdapterName(lab.adapterA)
                let b = AdapterName(lab.adapterB)
                let macA = try #require(io.mac(of: a))
                let base = IPv4Address(198, 18, 80, 0).rawValue
                let vips = AddressSet((0..<521).map { IPv4Address(rawValue: base + 4 * UInt32($0)) })
                io.answerTable.publish(AnswerTable(
                    generation: 1, proxyLists: [a: ProxyList(agentMAC: macA, vips: vips)], watchedVIPs: vips, ownMACs: Set(io.macs.values)))
                let (narrowedA, narrowedB) = try await io.narrowedFilters(on: a, b)
                let programA = try #require(narrowedA, "A kept the plain arp filter")
                let programB = try #require(narrowedB, "B kept the plain arp filter")
                #expect(programA.served.count == 521 && programA.watched.count == 521)
                #expect(programB.served.isEmpty && programB.watched.count == 521)
                #expect(programA.instructions.count > 2 * 1_042, "\(programA.instructions.count) instructions")
                let before = (a: try #require(io.counters(for: a)), b: try #require(io.counters(for: b)))

                let served = IPv4Address(rawValue: base + 4 * 260)
                let gap = IPv4Address(rawValue: base + 4 * 260 + 2)
                let answered = try await lab.inClient(["arping", "-c", "3", "-w", "5", "-I", "br0", "\(served)"])
                #expect(answered.exitCode == 0, "\(answered.output)")
                #expect(answered.output.lowercased().contains("[\(macA)]"), "\(answered.output)")
                let unanswered = try await lab.inClient(["arping", "-c", "2", "-w", "3", "-I", "br0", "\(gap)"])
                #expect(unanswered.output.contains("Received 0 response"), "\(unanswered.output)")

                let after = (a: try #require(io.counters(for: a)), b: try #require(io.counters(for: b)))
                #expect(after.a.repliesSent - before.a.repliesSent >= 3)
                // The gap's requests were dropped by both kernels' filters; B saw none of them.
                #expect(after.a.ignored[.targetNotOurs, default: 0] == before.a.ignored[.targetNotOurs, default: 0])
                #expect(after.b.requestsSeen == before.b.requestsSeen)
            }
        }
    }

    @Test("VLAN scope on the wire: a request tagged VLAN 7 is ignored and counted; the same behind a priority tag is answered, untagged")
    func vlanScope() async throws {
        // No 8021q module in a container, so B plays the tagged client: a raw handle on B
        // injects the requests and reads A's replies from the wire.
        try await SegmentLab.with { lab in
            let a = AdapterName(lab.adapterA)
            try await withFrameIO(lab, onlyA: true) { io in
                let macA = try #require(io.mac(of: a))
                let vip = IPv4Address(198, 18, 78, 10)
                publish(vip, answeredBy: a, mac: macA, in: io)  // only A is open: ownMACs = [macA]
                let client = try PcapHandle.openLive(device: lab.adapterB)
                let clientMAC = MACAddress(0x02, 0x00, 0x00, 0x00, 0x78, 0x01)
                let clientIP = IPv4Address(198, 18, 78, 1)
                func request(_ tags: VLANTags) -> [UInt8] {
                    ARPFrame(
                        ethernet: EthernetHeader(destination: .broadcast, source: clientMAC, tags: tags, etherType: EtherType.arp),
                        arp: ARPPacket(operation: .request, senderMAC: clientMAC, senderIP: clientIP, targetMAC: .zero, targetIP: vip)
                    ).bytes
                }
                let untaggedReply = ARPFrames.reply(from: macA, vip: vip, to: clientMAC, requesterIP: clientIP)
                func isReply(_ frame: [UInt8]) -> Bool {
                    guard case .arp(let parsed) = FrameParser.parse(frame) else { return false }
                    return parsed.arp.operation == .reply && parsed.arp.senderMAC == macA && parsed.arp.senderIP == vip
                }

                try request(VLANTags(VLANTag(vlanID: 7))).withUnsafeBytes { try client.inject($0) }
                let afterTagged = readFrames(from: client, for: .seconds(1))
                #expect(!afterTagged.contains(where: isReply), "a request of VLAN 7 was answered")
                #expect(io.counters(for: a)?.ignored[.otherVLAN] ?? 0 >= 1)

                var heard: [[UInt8]] = []
                for _ in 0..<3 where !heard.contains(where: { $0.starts(with: untaggedReply) }) {
                    try request(VLANTags(VLANTag(vlanID: 0, priority: 5))).withUnsafeBytes { try client.inject($0) }
                    heard += readFrames(from: client, for: .seconds(1))
                }
                #expect(heard.contains(where: { $0.starts(with: untaggedReply) }), "heard \(heard.count) frames")
                #expect(io.counters(for: a)?.repliesSent ?? 0 >= 1)
                client.close()
            }
        }
    }

    @Test("Answers every request of a burst of 2,000, several per batch")
    func answersBurst() async throws {
        try await SegmentLab.with { lab in
            let a = AdapterName(lab.adapterA)
            try await withFrameIO(lab, onlyA: true) { io in
                let macA = try #require(io.mac(of: a))
                let vip = IPv4Address(198, 18, 79, 10)
                publish(vip, answeredBy: a, mac: macA, in: io)  // only A is open: ownMACs = [macA]
                let client = try PcapHandle.openLive(device: lab.adapterB)
                let burst = 2_000
                for index in 0..<burst {
                    let clientMAC = MACAddress(rawValue: 0x0200_0000_0000 | UInt64(index + 1))
                    let request = ARPFrame(
                        ethernet: EthernetHeader(destination: .broadcast, source: clientMAC, etherType: EtherType.arp),
                        arp: ARPPacket(operation: .request, senderMAC: clientMAC, senderIP: IPv4Address(198, 18, 79, 1),
                                       targetMAC: .zero, targetIP: vip)
                    ).bytes
                    try request.withUnsafeBytes { try client.inject($0) }
                }
                client.close()
                // Bounded: 100 × 20 ms.
                for _ in 0..<100 where (io.counters(for: a)?.repliesSent ?? 0) < UInt64(burst) {
                    try await Task.sleep(for: .milliseconds(20))
                }
                let counters = try #require(io.counters(for: a))
                #expect(counters.requestsSeen == UInt64(burst))
                #expect(counters.repliesSent == UInt64(burst))
                #expect(counters.injectErrors == 0)
                #expect(counters.largestBatch <= UInt64(AdapterIO.batchSize))
                #expect(counters.batches < UInt64(burst), "mean \(counters.meanFramesPerBatch) frames per batch")
            }
        }
    }

    @Test("The filter changes hundreds of times during a burst of 20,000 requests: every one is seen and answered")
    func filterSwapsLoseNothing() async throws {
        // pcap_setfilter attaches a reject-all program before the new one: every frame in
        // between was lost. The swap is one SO_ATTACH_FILTER now.
        try await SegmentLab.with { lab in
            let a = AdapterName(lab.adapterA)
            try await withFrameIO(lab, onlyA: true, narrowing: true, quietPeriod: .milliseconds(1)) { io in
                let macA = try #require(io.mac(of: a))
                let vip = IPv4Address(198, 18, 79, 20)
                publish(vip, answeredBy: a, mac: macA, in: io)
                try await Task.sleep(for: .milliseconds(100))
                let burst = 20_000
                let clientDevice = lab.adapterB
                let sender = Task.detached {
                    let client = try PcapHandle.openLive(device: clientDevice)
                    for index in 0..<burst {
                        let clientMAC = MACAddress(rawValue: 0x0200_0000_0000 | UInt64(index % 50_000 + 1))
                        let request = ARPFrame(
                            ethernet: EthernetHeader(destination: .broadcast, source: clientMAC, etherType: EtherType.arp),
                            arp: ARPPacket(operation: .request, senderMAC: clientMAC, senderIP: IPv4Address(198, 18, 79, 1),
                                           targetMAC: .zero, targetIP: vip)
                        ).bytes
                        try request.withUnsafeBytes { try client.inject($0) }
                        if index % 50 == 49 { try await Task.sleep(for: .microseconds(500)) }
                    }
                    client.close()
                }
                // Every table publication widens the filter at once and narrows it 1 ms later.
                var generation: UInt64 = 2
                let clock = ContinuousClock()
                let deadline = clock.now + .seconds(20)
                while clock.now < deadline, (io.counters(for: a)?.requestsSeen ?? 0) < UInt64(burst) {
                    publish(vip, answeredBy: a, mac: macA, in: io, generation: generation)
                    generation += 1
                    try await Task.sleep(for: .milliseconds(2))
                }
                try await sender.value
                for _ in 0..<100 where (io.counters(for: a)?.repliesSent ?? 0) < UInt64(burst) {
                    try await Task.sleep(for: .milliseconds(20))
                }
                let counters = try #require(io.counters(for: a))
                #expect(generation > 100, "the filter changed during the burst (\(generation - 2) tables)")
                #expect(counters.requestsSeen == UInt64(burst), "lost \(UInt64(burst) - counters.requestsSeen) across \(generation - 2) tables")
                #expect(counters.repliesSent == UInt64(burst))
            }
        }
    }

    @Test("A gratuitous ARP sent on A is heard on sibling B as our own announcement")
    func siblingHearsAnnouncement() async throws {
        try await SegmentLab.with { lab in
            try await withFrameIO(lab) { io in
                let a = AdapterName(lab.adapterA)
                let b = AdapterName(lab.adapterB)
                let macA = try #require(io.mac(of: a))
                io.answerTable.publish(AnswerTable(
                    generation: 1,
                    proxyLists: [:],
                    watchedVIPs: [Self.announcedVIP],
                    ownMACs: Set(io.macs.values)
                ))
                let stream = io.observations()
                // Let the links settle (carrier) before sending: bounded, 20 × 50 ms.
                for _ in 0..<20 where !(operstateUp(lab.adapterA) && operstateUp(lab.adapterB)) {
                    try await Task.sleep(for: .milliseconds(50))
                }
                try await io.send(
                    [
                        ARPFrames.gratuitousRequest(mac: macA, vip: Self.announcedVIP),
                        ARPFrames.gratuitousReply(mac: macA, vip: Self.announcedVIP),
                    ], on: a)
                let expected = ARPObservation.ownAnnouncement(vip: Self.announcedVIP, mac: macA)
                let heard = await firstObservation(in: stream, within: .seconds(5)) {
                    $0.adapter == b && $0.observation == VIPObservation(expected)
                }
                #expect(heard != nil)
                #expect(io.counters(for: a)?.controlFramesSent == 2)
                #expect(io.counters(for: b)?.observations ?? 0 >= 1)
            }
        }
    }

    /// What `/proc/self/fd/N` links to (`socket:[inode]`), or nil when N is not open.
    static func target(ofDescriptor descriptor: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        let count = readlink("/proc/self/fd/\(descriptor)", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    @Test("A handle closes exactly once: the count drops and its descriptor is gone")
    func handleClosesOnce() async throws {
        try await SegmentLab.with { lab in
            let before = PcapHandle.openCount
            let handle = try PcapHandle.openLive(device: lab.adapterA)
            let descriptor = handle.selectableFileDescriptor
            #expect(PcapHandle.openCount == before + 1)
            // Tests run in parallel and may reuse the number at once: compare what it names.
            let socket = Self.target(ofDescriptor: descriptor)
            #expect(socket?.hasPrefix("socket:[") == true)
            handle.close()
            #expect(PcapHandle.openCount == before)
            #expect(Self.target(ofDescriptor: descriptor) != socket)

            // Frame I/O closes all of its handles on shutdown, and a second shutdown is harmless.
            let io = try PcapFrameIO(adapters: [AdapterName(lab.adapterA), AdapterName(lab.adapterB)])
            io.start()
            #expect(PcapHandle.openCount == before + 2)
            await io.shutdown()
            #expect(PcapHandle.openCount == before)
            await io.shutdown()
            #expect(PcapHandle.openCount == before)
            // The cause is a code: closed, not a device refusal (which would count against
            // the adapter's health), nor an unknown adapter.
            await #expect {
                try await io.send([ARPFrames.gratuitousRequest(mac: MACAddress(2, 0, 0, 0, 0, 1), vip: Self.vip)], on: AdapterName(lab.adapterA))
            } throws: { ($0 as? TransmitError)?.code == .closed }
            await #expect {
                try await io.send([], on: "nosuch0")
            } throws: { ($0 as? TransmitError)?.code == .noSuchAdapter }
        }
    }

    @Test("One adapter's capture closes and opens again at run time: sends fail closed in between, it answers after, handles balance")
    func closeAndReopenOneCapture() async throws {
        try await SegmentLab.with { lab in
            try await withFrameIO(lab) { io in
                let a = AdapterName(lab.adapterA)
                let b = AdapterName(lab.adapterB)
                let before = PcapHandle.openCount
                await io.closeCapture(on: a)
                #expect(PcapHandle.openCount == before - 1)
                #expect(io.mac(of: a) == nil)
                await #expect {
                    try await io.send([ARPFrames.gratuitousRequest(mac: MACAddress(2, 0, 0, 0, 0, 1), vip: Self.vip)], on: a)
                } throws: { ($0 as? TransmitError)?.code == .closed }
                try await io.send([], on: b)  // the other adapter is untouched
                await io.closeCapture(on: a)  // closed already: fine

                try await io.openCapture(on: a)
                #expect(PcapHandle.openCount == before)
                let macA = try #require(io.mac(of: a))
                publish(Self.vip, answeredBy: a, mac: macA, in: io)
                let answered = try await lab.inClient(["arping", "-c", "2", "-w", "5", "-I", "br0", "\(Self.vip)"])
                #expect(answered.output.lowercased().contains("[\(macA)]"), "\(answered.output)")
                await #expect {
                    try await io.openCapture(on: "nosuch0")
                } throws: { ($0 as? CaptureError)?.adapter == "nosuch0" }
            }
        }
    }

    @Test("Opening a missing interface throws a clear error")
    func missingInterface() throws {
        let name = "pio\(getpid())nx"
        #expect {
            _ = try PcapHandle.openLive(device: name)
        } throws: { error in
            guard let error = error as? PcapError else { return false }
            return error.device == name && error.operation == "pcap_activate"
                && error.description.contains(name) && !error.message.isEmpty
        }
        let before = PcapHandle.openCount
        #expect {
            _ = try PcapFrameIO(adapters: [AdapterName(name)])
        } throws: { error in
            (error as? PcapError)?.description.contains(name) == true
        }
        #expect(PcapHandle.openCount == before)
    }
}

/// True when `/sys/class/net/<device>/operstate` says `up`.
func operstateUp(_ device: String) -> Bool {
    (try? String(contentsOfFile: "/sys/class/net/\(device)/operstate", encoding: .utf8))?.hasPrefix("up") == true
}

/// The first observation matching `predicate` within `timeout`, or nil.
func firstObservation(
    in stream: AsyncStream<[HeardObservation]>,
    within timeout: Duration,
    where predicate: @escaping @Sendable (HeardObservation) -> Bool
) async -> HeardObservation? {
    await withTaskGroup(of: HeardObservation?.self) { group in
        group.addTask {
            for await batch in stream {
                if let match = batch.first(where: predicate) { return match }
            }
            return nil
        }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
}

/// Frames captured on `handle` during `duration` (bounded: polls of at most 50 ms).
func readFrames(from handle: borrowing PcapHandle, for duration: Duration) -> [[UInt8]] {
    final class Collector { var frames: [[UInt8]] = [] }
    let collector = Collector()
    let deadline = ContinuousClock.now.advanced(by: duration)
    var descriptor = pollfd(fd: handle.selectableFileDescriptor, events: Int16(POLLIN), revents: 0)
    while ContinuousClock.now < deadline {
        guard poll(&descriptor, 1, 50) > 0 else { continue }
        _ = withExtendedLifetime(collector) {
            handle.dispatch(maximumFrames: 64, callback: { user, header, bytes in
                guard let user, let header, let bytes else { return }
                let collector = Unmanaged<Collector>.fromOpaque(UnsafeRawPointer(user)).takeUnretainedValue()
                collector.frames.append(Array(UnsafeBufferPointer(start: bytes, count: Int(header.pointee.caplen))))
            }, context: Unmanaged.passUnretained(collector).toOpaque())
        }
    }
    return collector.frames
}
