import ArgumentParser
import CPacketFlood
import Foundation
import ProxyARPCore
import ProxyARPTestSupport

/// `proxyarpd-lab flood`: the bench runner's traffic generator. Sends
/// broadcast ARP requests for `--target` (or, with `--family ndp`, Neighbor Solicitations
/// to its solicited-node group, with the source link-layer option, hop limit 255 and a
/// valid ICMPv6 checksum) from `--interface` at `--rate` frames/s (0: unpaced, as fast as
/// one core transmits) for `--seconds`, from a PACKET_MMAP TX ring with qdisc bypass
/// (batches paced on a monotonic schedule, sender pinned to `--cpu`), counts the ARP
/// replies from `--target` (or the solicited advertisements of `--target`, from
/// `--responder-mac` when given) on the same interface (recvmmsg, another thread), reads
/// the machine's busy CPU over the sending window, and prints one JSON line.
struct FloodCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flood",
        abstract: "Lab tool: send ARP requests or Neighbor Solicitations at a paced rate and count the replies (one JSON line)."
    )

    /// What the generator asks with.
    enum Family: String, ExpressibleByArgument, CaseIterable {
        /// Broadcast ARP requests; ARP replies counted.
        case arp
        /// Multicast Neighbor Solicitations; solicited Neighbor Advertisements counted.
        case ndp
    }

    @Option(help: "The interface to send and receive on.") var interface: String
    @Option(help: "arp (ARP requests, IPv4 addresses) or ndp (Neighbor Solicitations, IPv6 addresses).") var family = Family.arp
    @Option(help: "The address asked for (and whose replies are counted).") var target: String
    @Option(help: "The requester's MAC (ARP sender or source link-layer option, and Ethernet source).") var sourceMAC: String
    @Option(help: "The requester's address (IPv4 for arp, IPv6 for ndp).") var sourceIP: String
    @Option(help: "ndp: count only advertisements from this MAC (Ethernet source and target link-layer option).") var responderMAC: String?
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
        guard rate >= 0, seconds > 0 else { throw ValidationError("--rate must be 0 (unpaced) or positive, --seconds positive") }
        let result: paf_step_result
        switch family {
        case .arp: result = try runARP()
        case .ndp: result = try runNDP()
        }
        let outcome = Outcome(
            rate: rate, offered: result.offered, sent: result.sent, sendErrors: result.send_errors,
            replies: result.replies, otherFrames: result.other, receiverDrops: result.receiver_drops,
            sendSeconds: result.send_seconds, busySeconds: result.busy_seconds >= 0 ? result.busy_seconds : nil,
            labSeconds: result.lab_seconds >= 0 ? result.lab_seconds : nil,
            pinned: result.pinned != 0)
        let data = try JSONEncoder().encode(outcome)
        print(String(decoding: data, as: UTF8.self))
    }

    /// Two AF_PACKET sockets on `interface` for `protocol`: the sender's and the receiver's.
    private func sockets(protocol: Int32) throws -> (send: Int32, receive: Int32) {
        let sendSocket = paf_open(interface, `protocol`, 4 << 20)
        guard sendSocket >= 0 else { throw ValidationError("AF_PACKET socket on \(interface): \(String(cString: strerror(-sendSocket)))") }
        let receiveSocket = paf_open(interface, `protocol`, 64 << 20)
        guard receiveSocket >= 0 else {
            close(sendSocket)
            throw ValidationError("AF_PACKET socket on \(interface): \(String(cString: strerror(-receiveSocket)))")
        }
        return (sendSocket, receiveSocket)
    }

    private func runNDP() throws -> paf_step_result {
        guard let targetIP = IPv6Address(target), let senderIP = IPv6Address(sourceIP), let mac = MACAddress(sourceMAC) else {
            throw ValidationError("--family ndp: bad --target, --source-ip (IPv6) or --source-mac")
        }
        let responder = try responderMAC.map { text in
            guard let mac = MACAddress(text) else { throw ValidationError("bad --responder-mac") }
            return (0..<6).map { mac.octet($0) }
        }
        let frame = NDPFrames.solicitation(from: mac, source: senderIP, target: targetIP)
        let (sendSocket, receiveSocket) = try sockets(protocol: Int32(ETH_P_IPV6))
        defer {
            close(sendSocket)
            close(receiveSocket)
        }
        // The 16 address bytes and the 6 MAC bytes the receiver compares, network order.
        let addresses = (0..<16).map { targetIP.octet($0) } + (0..<16).map { senderIP.octet($0) } + (responder ?? [])
        var result = paf_step_result()
        let status = frame.withUnsafeBufferPointer { bytes in
            addresses.withUnsafeBufferPointer { fields in
                paf_run_step_ndp(
                    sendSocket, receiveSocket, bytes.baseAddress, Int32(bytes.count), fields.baseAddress, fields.baseAddress! + 16,
                    responder == nil ? nil : fields.baseAddress! + 32,
                    UInt64(rate), seconds, Int32(batch), Int32(cpu), Int32(tailMilliseconds), &result)
            }
        }
        guard status == 0 else { throw ValidationError("TX ring or receiver thread on \(interface): \(String(cString: strerror(-status)))") }
        return result
    }

    private func runARP() throws -> paf_step_result {
        guard let targetIP = IPv4Address(target), let senderIP = IPv4Address(sourceIP), let mac = MACAddress(sourceMAC) else {
            throw ValidationError("bad --target, --source-ip or --source-mac")
        }
        var frame = [UInt8](repeating: 0, count: 42)
        frame.withUnsafeMutableBytes { buffer in
            _ = ARPFrame(
                ethernet: EthernetHeader(destination: .broadcast, source: mac, tags: VLANTags(), etherType: EtherType.arp),
                arp: ARPPacket(operation: .request, senderMAC: mac, senderIP: senderIP, targetMAC: .zero, targetIP: targetIP)
            ).encode(into: buffer)
        }
        let (sendSocket, receiveSocket) = try sockets(protocol: Int32(ETH_P_ARP))
        defer {
            close(sendSocket)
            close(receiveSocket)
        }
        var result = paf_step_result()
        let status = frame.withUnsafeBufferPointer { bytes in
            paf_run_step(
                sendSocket, receiveSocket, bytes.baseAddress, Int32(bytes.count), targetIP.rawValue.bigEndian, senderIP.rawValue.bigEndian,
                UInt64(rate), seconds, Int32(batch), Int32(cpu), Int32(tailMilliseconds), &result)
        }
        guard status == 0 else { throw ValidationError("TX ring or receiver thread on \(interface): \(String(cString: strerror(-status)))") }
        return result
    }
}
