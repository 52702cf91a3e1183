import ArgumentParser
import ProxyARPIO

/// `proxyarpd-lab inject --interface DEV FILE`: a lab tool that sends the frames of a pcap
/// file out of an interface as they are (malformed ones included), so tests can show
/// what the responder does with real captured and crafted frames.
struct InjectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inject",
        abstract: "Lab tool: send the frames of a pcap file out of an interface, byte for byte."
    )

    /// Where to send.
    @Option(help: "The interface to send on.")
    var interface: String

    /// Which frames (1-based); all when empty.
    @Option(help: "Comma-separated 1-based frame numbers to send (default: all).")
    var frames: String = ""

    /// The capture file.
    @Argument(help: "A pcap file with Ethernet frames.")
    var file: String

    func run() throws {
        let capture = try CaptureFile(path: file)
        let selected: [Int] = frames.isEmpty
            ? Array(1...capture.frames.count)
            : frames.split(separator: ",").compactMap { Int($0) }
        let handle = try PcapHandle.openLive(device: interface, options: PcapOptions(filter: "arp", inboundOnly: true))
        for number in selected {
            guard capture.frames.indices.contains(number - 1) else {
                throw ValidationError("\(file) has no frame \(number)")
            }
            try capture.frames[number - 1].withUnsafeBytes { try handle.inject($0) }
        }
        print("sent \(selected.count) frame\(selected.count == 1 ? "" : "s") on \(interface)")
    }
}
