import ProxyARPCore
import ProxyARPIO

/// The fate of every echo of a ping across a failover, read from captures on the client and
/// on the host adapters (tcpdump, promiscuous): when the client sent each request and to
/// which MAC, which adapter received it addressed to itself, which adapter saw it flooded
/// (addressed to another MAC: the bridge no longer knew the destination's port), which
/// adapter sent the reply, and whether the reply reached the client.
///
/// Echoes of IPv4 (ICMP 8/0) and IPv6 (ICMPv6 128/129), untagged; a request and its reply
/// share the identifier and sequence number.
struct EchoLedger {
    /// One echo.
    struct Echo {
        /// The ICMP sequence number.
        var sequence: UInt16
        /// The client sent the request (its capture's time, ns since the epoch).
        var sentAt: Int64
        /// The request's Ethernet destination: the MAC the client's neighbour entry held.
        var sentTo: MACAddress
        /// Adapters whose capture saw the request addressed to them (it was delivered).
        var deliveredTo: [String] = []
        /// Adapters whose capture saw the request addressed to another MAC (flooded).
        var floodedTo: [String] = []
        /// Adapters whose capture saw the reply leave.
        var repliedFrom: [String] = []
        /// The client received the reply.
        var answeredAt: Int64?
    }

    /// Why an echo was lost, from where its frames were seen.
    enum Loss: String {
        /// Sent to the old agent's MAC after the bridge forgot that MAC's port: flooded to
        /// the other ports, taken by no adapter (its MAC is someone else's).
        case floodedToDeadMAC = "request to the old MAC, flooded, taken by nobody"
        /// Sent to the old agent's MAC and seen by no host adapter at all (dropped on the
        /// way, e.g. forwarded to the port as it went down).
        case vanished = "request seen by no host adapter"
        /// Delivered and answered, but the reply never reached the client (sent out of an
        /// adapter without carrier).
        case replyLost = "delivered, reply sent, never received"
        /// Delivered, never answered.
        case unanswered = "delivered, never answered"
    }

    /// Every echo the client sent, by sequence number order.
    let echoes: [Echo]

    /// Reads the client's capture (requests from `clientMAC`, replies to it) and each
    /// adapter's (name, MAC, capture).
    init(client: CaptureFile, clientMAC: MACAddress, adapters: [(name: String, mac: MACAddress, capture: CaptureFile)]) {
        self.init(
            client: Array(zip(client.frames, client.timestamps)), clientMAC: clientMAC,
            adapters: adapters.map { ($0.name, $0.mac, $0.capture.frames) })
    }

    /// The same from frames in memory: the client's with their capture times, each adapter's.
    init(client: [([UInt8], Int64)], clientMAC: MACAddress, adapters: [(name: String, mac: MACAddress, frames: [[UInt8]])]) {
        var bySequence: [UInt16: Echo] = [:]
        for (bytes, at) in client {
            guard let echo = Self.parse(bytes) else { continue }
            if echo.isRequest, echo.source == clientMAC, bySequence[echo.sequence] == nil {
                bySequence[echo.sequence] = Echo(sequence: echo.sequence, sentAt: at, sentTo: echo.destination)
            } else if !echo.isRequest, echo.destination == clientMAC, bySequence[echo.sequence]?.answeredAt == nil {
                bySequence[echo.sequence]?.answeredAt = at
            }
        }
        for adapter in adapters {
            var delivered: Set<UInt16> = [], flooded: Set<UInt16> = [], replied: Set<UInt16> = []
            for bytes in adapter.frames {
                guard let echo = Self.parse(bytes) else { continue }
                if echo.isRequest, echo.source == clientMAC {
                    if echo.destination == adapter.mac { delivered.insert(echo.sequence) } else { flooded.insert(echo.sequence) }
                } else if !echo.isRequest, echo.source == adapter.mac, echo.destination == clientMAC {
                    replied.insert(echo.sequence)
                }
            }
            for sequence in delivered { bySequence[sequence]?.deliveredTo.append(adapter.name) }
            for sequence in flooded { bySequence[sequence]?.floodedTo.append(adapter.name) }
            for sequence in replied { bySequence[sequence]?.repliedFrom.append(adapter.name) }
        }
        echoes = bySequence.values.sorted { $0.sentAt < $1.sentAt }
    }

    /// The echoes without a reply at the client, with the reason.
    var lost: [(echo: Echo, loss: Loss)] {
        echoes.filter { $0.answeredAt == nil }.map { echo in
            let loss: Loss =
                if !echo.repliedFrom.isEmpty { .replyLost }
                else if !echo.deliveredTo.isEmpty { .unanswered }
                else if !echo.floodedTo.isEmpty { .floodedToDeadMAC }
                else { .vanished }
            return (echo, loss)
        }
    }

    /// The lost echoes that nobody but the failed agent could have served, explained: each
    /// must have been addressed to `oldMAC` and sent before the client received the new
    /// agent's first announcement (`announcedAt`), and if any adapter took it, only
    /// `oldAgent` (whose carrier went). After the cut the bridge floods a frame for the old
    /// MAC and no live adapter takes a frame for another MAC; a reply that the old agent
    /// sends after the cut has no carrier to leave by. Returns one line per lost echo that
    /// breaks this: a loss the failover should have prevented.
    func lossesOutsideTheWindow(oldMAC: MACAddress, oldAgent: String, announcedAt: Int64?) -> [String] {
        lost.compactMap { echo, loss in
            var reasons: [String] = []
            if echo.sentTo != oldMAC { reasons.append("addressed to \(echo.sentTo), not the old agent") }
            if echo.sentAt >= announcedAt ?? .max { reasons.append("sent after the client received the announcement") }
            if (echo.deliveredTo + echo.repliedFrom).contains(where: { $0 != oldAgent }) { reasons.append("taken by a live adapter") }
            return reasons.isEmpty ? nil : "seq \(echo.sequence) (\(loss.rawValue)): \(reasons.joined(separator: ", "))"
        }
    }

    /// The first request the client addressed to a MAC other than `old`: its neighbour
    /// entry had moved.
    func firstRequest(notTo old: MACAddress) -> Echo? {
        echoes.first { $0.sentTo != old }
    }

    /// The last request to `old` that an adapter took as addressed to itself.
    func lastDelivered(to old: MACAddress) -> Echo? {
        echoes.last { $0.sentTo == old && !$0.deliveredTo.isEmpty }
    }

    /// The first request to `old` flooded to the other ports: the bridge had forgotten the
    /// port of `old` (its carrier was gone).
    func firstFlooded(to old: MACAddress) -> Echo? {
        echoes.first { $0.sentTo == old && !$0.floodedTo.isEmpty }
    }

    /// One line per lost echo, times in ms after `origin`.
    func describeLosses(after origin: Int64) -> String {
        let lines = lost.map { echo, loss in
            "seq \(echo.sequence) sent \(Self.ms(echo.sentAt, after: origin)) to \(echo.sentTo): \(loss.rawValue)"
                + " (delivered \(echo.deliveredTo), flooded \(echo.floodedTo), replied from \(echo.repliedFrom))"
        }
        return lines.isEmpty ? "none" : lines.joined(separator: "; ")
    }

    /// Every echo sent between `from` and `to` ms after `origin`: `seq@sent→MAC` with where
    /// it was delivered (`d:`), flooded (`f:`), replied from (`r:`), and `ok`/`LOST`.
    func describeEchoes(after origin: Int64, from: Double, to: Double) -> String {
        echoes.filter { echo in
            let at = Double(echo.sentAt - origin) / 1e6
            return at >= from && at <= to
        }.map { echo in
            "\(echo.sequence)@\(Self.ms(echo.sentAt, after: origin))→\(echo.sentTo)"
                + " d:\(echo.deliveredTo.joined(separator: ",")) f:\(echo.floodedTo.joined(separator: ",")) r:\(echo.repliedFrom.joined(separator: ","))"
                + (echo.answeredAt.map { " ok \(Self.ms($0, after: origin))" } ?? " LOST")
        }.joined(separator: " | ")
    }

    /// `at` in milliseconds after `origin`, two decimals; `-` for nil.
    static func ms(_ at: Int64?, after origin: Int64) -> String {
        at.map { String(format: "%.2f", Double($0 - origin) / 1e6) } ?? "-"
    }

    /// An echo request or reply in an untagged Ethernet frame.
    struct ParsedEcho {
        var source: MACAddress
        var destination: MACAddress
        var isRequest: Bool
        var sequence: UInt16
    }

    /// Parses an ICMP or ICMPv6 echo request or reply; nil for anything else.
    static func parse(_ bytes: [UInt8]) -> ParsedEcho? {
        guard bytes.count >= 14 else { return nil }
        func mac(_ at: Int) -> MACAddress { MACAddress(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3], bytes[at + 4], bytes[at + 5]) }
        let etherType = UInt16(bytes[12]) << 8 | UInt16(bytes[13])
        let icmp: Int
        let (request, reply): (UInt8, UInt8)
        switch etherType {
        case 0x86DD:  // IPv6, ICMPv6 right after the fixed header
            guard bytes.count >= 14 + 40 + 8, bytes[14 + 6] == 58 else { return nil }
            icmp = 14 + 40
            (request, reply) = (128, 129)
        case 0x0800:  // IPv4, protocol 1
            guard bytes.count >= 14 + 20 else { return nil }
            let headerLength = Int(bytes[14] & 0x0F) * 4
            guard bytes[14 + 9] == 1, bytes.count >= 14 + headerLength + 8 else { return nil }
            icmp = 14 + headerLength
            (request, reply) = (8, 0)
        default:
            return nil
        }
        guard bytes[icmp] == request || bytes[icmp] == reply else { return nil }
        return ParsedEcho(
            source: mac(6), destination: mac(0), isRequest: bytes[icmp] == request,
            sequence: UInt16(bytes[icmp + 6]) << 8 | UInt16(bytes[icmp + 7]))
    }
}
