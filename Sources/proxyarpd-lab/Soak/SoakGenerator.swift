import CPacketFlood
import Foundation
import ProxyARPCore
import ProxyARPTestSupport

/// The soak's ARP load: the bench's generator (CPacketFlood's paced sendmmsg sender and
/// recvmmsg receiver) going round one broadcast request per VIP until stopped, on two
/// AF_PACKET sockets opened inside the client namespace, recording every reply to the
/// requester (time, VIP, MAC) for the checker. Owned by one task.
final class SoakGenerator {
    /// Totals so far.
    struct Counters {
        var sent: UInt64
        var sendErrors: UInt64
        var replies: UInt64
        var otherFrames: UInt64
        /// Replies lost because nobody drained the record ring in time.
        var overflow: UInt64
    }

    private let load: UnsafeMutablePointer<paf_load>
    private var buffer = [paf_reply_record](repeating: paf_reply_record(), count: 65_536)
    private var stopped = false

    /// Starts asking for `vips` (one request each, round and round) at `rate` requests/s
    /// from `interface` in the namespace `namespace`, as `requester`.
    init(namespace: String, interface: String, requester: (mac: MACAddress, ip: IPv4Address), vips: [IPv4Address], rate: Int) throws {
        guard !vips.isEmpty, rate > 0 else { throw BenchFailure("the soak's load needs VIPs and a positive rate") }
        var frames = [UInt8](repeating: 0, count: 42 * vips.count)
        frames.withUnsafeMutableBytes { buffer in
            for (index, vip) in vips.enumerated() {
                _ = ARPFrame(
                    ethernet: EthernetHeader(destination: .broadcast, source: requester.mac, tags: VLANTags(), etherType: EtherType.arp),
                    arp: ARPPacket(operation: .request, senderMAC: requester.mac, senderIP: requester.ip, targetMAC: .zero, targetIP: vip)
                ).encode(into: UnsafeMutableRawBufferPointer(rebasing: buffer[(index * 42)..<(index * 42 + 42)]))
            }
        }
        let path = NetnsLab.path(of: namespace)
        let sender = paf_open_in(path, interface, Int32(ETH_P_ARP), 4 << 20)
        guard sender >= 0 else { throw BenchFailure("AF_PACKET socket on \(interface) in \(namespace): \(String(cString: strerror(-sender)))") }
        let receiver = paf_open_in(path, interface, Int32(ETH_P_ARP), 64 << 20)
        guard receiver >= 0 else {
            close(sender)
            throw BenchFailure("AF_PACKET socket on \(interface) in \(namespace): \(String(cString: strerror(-receiver)))")
        }
        let started = frames.withUnsafeBufferPointer { bytes in
            paf_load_start(sender, receiver, bytes.baseAddress, Int32(vips.count), 42, requester.ip.rawValue.bigEndian, UInt64(rate), 1 << 20)
        }
        guard let started else {
            close(sender)
            close(receiver)
            throw BenchFailure("could not start the load's threads")
        }
        load = started
    }

    deinit {
        if !stopped { paf_load_stop(load, 0) }
        paf_load_free(load)
    }

    /// The replies recorded since the last call, oldest first.
    func drain() -> [SoakReply] {
        var replies: [SoakReply] = []
        while true {
            let count = buffer.withUnsafeMutableBufferPointer { paf_load_drain(load, $0.baseAddress, Int32($0.count)) }
            guard count > 0 else { break }
            replies.reserveCapacity(replies.count + Int(count))
            for record in buffer[..<Int(count)] {
                let mac = withUnsafeBytes(of: record.sender_mac) { MACAddress($0[0], $0[1], $0[2], $0[3], $0[4], $0[5]) }
                replies.append(SoakReply(
                    at: Int64(record.at_ns), vip: IPv4Address(rawValue: UInt32(bigEndian: record.sender_ip_be)), mac: mac,
                    ethernetSourceDiffers: record.ethernet_source_differs != 0))
            }
            if Int(count) < buffer.count { break }
        }
        return replies
    }

    /// Totals so far.
    var counters: Counters {
        let value = paf_load_read(load)
        return Counters(sent: value.sent, sendErrors: value.send_errors, replies: value.replies, otherFrames: value.other, overflow: value.overflow)
    }

    /// Stops sending, waits `tailMilliseconds` for late replies, stops receiving. Drain after it.
    func stop(tailMilliseconds: Int = 300) {
        guard !stopped else { return }
        stopped = true
        paf_load_stop(load, Int32(tailMilliseconds))
    }
}
