import ArgumentParser
import CPacketFlood
import Foundation
import ProxyARPCore

/// `proxyarpd-lab flood`: the bench runner's traffic generator. Sends
/// broadcast ARP requests for `--target` from `--interface` at `--rate` frames/s (0:
/// unpaced, as fast as one core transmits) for `--seconds`, from a PACKET_MMAP TX ring
/// with qdisc bypass (batches paced on a monotonic schedule, sender pinned to `--cpu`),
/// counts the ARP replies from `--target` on the same interface (recvmmsg, another
/// thread), reads the machine's busy CPU over the sending window, and prints one JSON line.
struct FloodCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flood",
        abstract: "Lab tool: send ARP requests at a paced rate and count the replies (one JSON line)."
    )

    @Option(help: "The interface to send and receive on.") var interface: String
    @Option(help: "The address asked for (and whose replies are counted).") var target: String
    @Option(help: "The requester's MAC (ARP sender and Ethernet source).") var sourceMAC: String
    @Option(help: "The requester's IPv4 address.") var sourceIP: String
    @Option(help: "Requests per second (0: unpaced, as fast as the sending core allows).") var rate: Int
    @Option(help: "Seconds of sending.") var seconds: Double = 2
    @Option(help: "Frames per sendmmsg call.") var batch: Int = 32
    @Option(help: "CPU to pin the sender to (-1: none).") var cpu: Int = 0
    @Option(help: "Milliseconds to wait for late replies.") var tailMilliseconds: Int = 300

    /// What one step printed.
    struct Outcome: Codable {
        var rate: Int
        var offered: UInt64
        var sent: UInt64
        var sendErrors: UInt64
        var replies: UInt64
        var otherFrames: UInt64
        /// Frames the receiving socket's buffer dropped (a reply lost there is the client's, not the responder's).
        var receiverDrops: UInt64
        var sendSeconds: Double
        /// Busy CPU seconds of the whole machine over `sendSeconds` (nil when /proc/stat was unreadable).
        var busySeconds: Double?
        /// This generator's CPU (all threads) plus the machine's irq and softirq time over
        /// `sendSeconds`: the lab's own work, much less disturbed by other processes.
        var labSeconds: Double?
        var pinned: Bool
    }

    func run() throws {
        guard let targetIP = IPv4Address(target), let senderIP = IPv4Address(sourceIP), let mac = MACAddress(sourceMAC) else {
            throw ValidationError("bad --target, --source-ip or --source-mac")
        }
        guard rate >= 0, seconds > 0 else { throw ValidationError("--rate must be 0 (unpaced) or positive, --seconds positive") }
        var frame = [UInt8](repeating: 0, count: 42)
        frame.withUnsafeMutableBytes { buffer in
            _ = ARPFrame(
                ethernet: EthernetHeader(destination: .broadcast, source: mac, tags: VLANTags(), etherType: EtherType.arp),
                arp: ARPPacket(operation: .request, senderMAC: mac, senderIP: senderIP, targetMAC: .zero, targetIP: targetIP)
            ).encode(into: buffer)
        }
        let sendSocket = paf_open(interface, Int32(ETH_P_ARP), 4 << 20)
        guard sendSocket >= 0 else { throw ValidationError("AF_PACKET socket on \(interface): \(String(cString: strerror(-sendSocket)))") }
        defer { close(sendSocket) }
        let receiveSocket = paf_open(interface, Int32(ETH_P_ARP), 64 << 20)
        guard receiveSocket >= 0 else { throw ValidationError("AF_PACKET socket on \(interface): \(String(cString: strerror(-receiveSocket)))") }
        defer { close(receiveSocket) }
        var result = paf_step_result()
        let status = frame.withUnsafeBufferPointer { bytes in
            paf_run_step(
                sendSocket, receiveSocket, bytes.baseAddress, Int32(bytes.count), targetIP.rawValue.bigEndian, senderIP.rawValue.bigEndian,
                UInt64(rate), seconds, Int32(batch), Int32(cpu), Int32(tailMilliseconds), &result)
        }
        guard status == 0 else { throw ValidationError("TX ring or receiver thread on \(interface): \(String(cString: strerror(-status)))") }
        let outcome = Outcome(
            rate: rate, offered: result.offered, sent: result.sent, sendErrors: result.send_errors,
            replies: result.replies, otherFrames: result.other, receiverDrops: result.receiver_drops,
            sendSeconds: result.send_seconds, busySeconds: result.busy_seconds >= 0 ? result.busy_seconds : nil,
            labSeconds: result.lab_seconds >= 0 ? result.lab_seconds : nil,
            pinned: result.pinned != 0)
        let data = try JSONEncoder().encode(outcome)
        print(String(decoding: data, as: UTF8.self))
    }
}
