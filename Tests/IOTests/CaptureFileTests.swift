import Foundation
import ProxyARPIO
import ProxyARPTestSupport
import Testing

@Suite("Capture file")
struct CaptureFileTests {
    @Test("Reads every frame of both captures", arguments: [
        ("linux-arp-ndp.pcap", [70, 70, 42, 42, 42, 42, 42, 42, 70, 70, 42, 42, 42, 86, 86, 118, 118]),
        ("crafted-arp-edge-cases.pcap", [64, 60, 50, 30, 42, 42, 47, 60, 42, 42, 1514, 42]),
    ])
    func readsFrames(name: String, lengths: [Int]) throws {
        let capture = try CaptureFile(path: Fixtures.path(name))
        #expect(capture.linkType == CaptureFile.ethernetLinkType)
        #expect(capture.frames.map(\.count) == lengths)
    }

    @Test("Frame bytes are the file's bytes")
    func frameBytes() throws {
        let capture = try CaptureFile(path: Fixtures.path(Fixtures.linuxCapture))
        // Frame 3: broadcast ARP request from 02:00:00:00:0a:01.
        #expect(Array(capture.frames[2].prefix(14)) == [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x0a, 0x01, 0x08, 0x06,
        ])
    }

    @Test("A missing file throws an error naming it")
    func missingFile() {
        let path = Fixtures.path("no-such-file.pcap")
        #expect {
            try CaptureFile(path: path)
        } throws: { error in
            guard let error = error as? CaptureFileError, case .cannotOpen(let message) = error.reason else { return false }
            return error.path == path && !message.isEmpty && error.description.contains(path)
        }
    }

    @Test("A file that is not a capture throws")
    func notACapture() {
        let path = Fixtures.path("README.md")
        #expect(throws: CaptureFileError.self) { try CaptureFile(path: path) }
    }
}
