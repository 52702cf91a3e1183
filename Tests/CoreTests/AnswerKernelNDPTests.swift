import ProxyARPCore
import ProxyARPTestSupport
import Testing

@Suite("Answer kernel: the IPv6 path")
struct AnswerKernelNDPTests {
    @Test("The whole Linux NDP capture through the kernel: one advertisement per answered solicitation, the kernel's bytes, every drop counted")
    func wholeCapture() throws {
        let frames = try TestData.frames(linuxNDP)
        let reply = UnsafeMutableRawBufferPointer.allocate(byteCount: AnswerKernel.replyCapacity, alignment: 8)
        defer { reply.deallocate() }
        var kernel = AnswerKernel(view: NDPLab.hostBView, reply: reply, repliesByVIP: [:])
        var sent: [[UInt8]] = []
        for frame in frames {
            let arpObservation = frame.withUnsafeBytes { bytes in
                kernel.answer(bytes) { out in
                    sent.append(Array(out))
                    return true
                }
            }
            #expect(arpObservation == nil)
        }
        // Frames 1, 3, 7, 16, 19, 22 are answered, each with the kernel's following frame.
        let expected = try [2, 4, 8, 17, 20, 23].map { try TestData.frame($0, of: linuxNDP) }
        #expect(sent == expected)
        #expect(kernel.frames == frames.count)
        #expect(kernel.replies == 6)
        #expect(kernel.requests == kernel.solicitations)
        #expect(kernel.ndpObservations == [
            .probe(vip: NDPLab.vip, from: Lab.hostA), .ownAnnouncement(vip: NDPLab.vip, mac: Lab.hostB),
        ])
        let count = { (reason: IgnoreReason) in Int(kernel.ignored[reason.counterIndex]) }
        #expect(count(.malformed(.badChecksum)) == 1)
        #expect(count(.malformed(.badHopLimit)) == 1)
        #expect(count(.malformed(.badNDPOption)) == 2)
        #expect(count(.otherVLAN) == 1)
        #expect(kernel.repliesByVIP.isEmpty)  // per-VIP counts are IPv4 only
    }

    @Test("A reply buffer too short for an advertisement counts a send error, never traps")
    func shortBuffer() throws {
        let frame = try TestData.frame(1, of: linuxNDP)
        let reply = UnsafeMutableRawBufferPointer.allocate(byteCount: ARPEncoder.maximumLength, alignment: 8)
        defer { reply.deallocate() }
        var kernel = AnswerKernel(view: NDPLab.hostBView, reply: reply, repliesByVIP: [:])
        _ = frame.withUnsafeBytes { kernel.answer($0) { _ in true } }
        #expect(kernel.replies == 0)
        #expect(kernel.sendErrors == 1)
    }
}
