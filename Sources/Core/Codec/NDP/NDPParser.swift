/// The outcome of parsing one frame as Neighbor Discovery.
public enum ParsedNDPFrame: Hashable, Sendable {
    /// A valid solicitation or advertisement.
    case ndp(NDPFrame)
    /// IPv6, but not a Neighbor Solicitation or Advertisement (another ICMPv6 type,
    /// another upper layer, a fragment), or not IPv6 at all.
    case notNDP
    /// A solicitation or advertisement that RFC 4861 §7.1 says to discard, and why.
    case malformed(MalformedFrameReason)
}

/// Parses Ethernet → IPv6 (extension headers skipped) → ICMPv6 Neighbor Solicitation /
/// Advertisement straight from a raw buffer, without allocating, and applies the
/// validity checks of RFC 4861 §7.1.1 and §7.1.2 that Linux applies (measured in
/// Tests/Fixtures/linux-ndp.pcap): hop limit 255, checksum, code 0, message at least 24
/// bytes, target not multicast, source not multicast, every option of non-zero length
/// inside the message, and a DAD probe (source `::`) sent to a solicited-node group
/// without a source link-layer option. An advertisement sent to a multicast destination
/// must not have S set. Bytes after the IPv6 payload (Ethernet padding) are ignored.
public enum NDPParser {
    /// ICMPv6 Neighbor Solicitation.
    public static let solicitationType: UInt8 = 135
    /// ICMPv6 Neighbor Advertisement.
    public static let advertisementType: UInt8 = 136
    /// The fixed part of a solicitation or advertisement: type, code, checksum, 4 bytes
    /// reserved/flags, 16 bytes target.
    public static let messageLength = 24
    /// The IPv6 header.
    public static let ipv6HeaderLength = 40
    /// Most extension headers skipped before giving up (bounds the loop on hostile input).
    public static let maximumExtensionHeaders = 8

    /// Parses `frame`, whose Ethernet header (tags included) is `ethernet`, as produced
    /// by ``FrameParser/parse(_:)-(UnsafeRawBufferPointer)`` for a non-ARP frame. Never traps.
    public static func parse(_ frame: UnsafeRawBufferPointer, ethernet: EthernetHeader) -> ParsedNDPFrame {
        guard ethernet.etherType == EtherType.ipv6 else { return .notNDP }
        let ip = ethernet.length
        let count = frame.count
        guard count >= ip + ipv6HeaderLength else { return .malformed(.truncated) }
        guard frame[ip] >> 4 == 6 else { return .notNDP }
        let payloadLength = Int(frame.loadUInt16BE(at: ip + 4))
        let end = ip + ipv6HeaderLength + payloadLength
        guard end <= count else { return .malformed(.truncated) }
        var nextHeader = frame[ip + 6]
        let hopLimit = frame[ip + 7]
        let source = frame.loadIPv6(at: ip + 8)
        let destination = frame.loadIPv6(at: ip + 24)

        // Hop-by-hop (0), routing (43) and destination options (60) are skipped; a
        // fragment (44) or anything else that is not ICMPv6 (58) is not NDP.
        var offset = ip + ipv6HeaderLength
        var skipped = 0
        while nextHeader == 0 || nextHeader == 43 || nextHeader == 60 {
            guard skipped < maximumExtensionHeaders else { return .notNDP }
            guard offset + 8 <= end else { return .malformed(.truncated) }
            let length = (Int(frame[offset + 1]) + 1) * 8
            guard offset + length <= end else { return .malformed(.truncated) }
            nextHeader = frame[offset]
            offset += length
            skipped += 1
        }
        guard nextHeader == 58, offset + 1 <= end else { return .notNDP }
        let type = frame[offset]
        guard type == solicitationType || type == advertisementType else { return .notNDP }
        guard offset + messageLength <= end else { return .malformed(.truncated) }
        guard hopLimit == 255 else { return .malformed(.badHopLimit) }
        guard frame[offset + 1] == 0 else { return .malformed(.badICMPv6Code) }
        let message = UnsafeRawBufferPointer(rebasing: frame[offset..<end])
        guard ICMPv6Checksum.isValid(source: source, destination: destination, message: message) else {
            return .malformed(.badChecksum)
        }
        let target = frame.loadIPv6(at: offset + 8)
        guard !target.isMulticast else { return .malformed(.multicastTarget) }
        guard !source.isMulticast else { return .malformed(.badIPv6Source) }

        // Options: type, length in units of 8 bytes (0 is invalid), all inside the message.
        let wanted: UInt8 = type == solicitationType ? 1 : 2
        var linkLayerAddress: MACAddress?
        var option = offset + messageLength
        while option < end {
            guard option + 2 <= end else { return .malformed(.badNDPOption) }
            let length = Int(frame[option + 1]) * 8
            guard length > 0, option + length <= end else { return .malformed(.badNDPOption) }
            if frame[option] == wanted, length >= 8, linkLayerAddress == nil {
                linkLayerAddress = frame.loadMAC(at: option + 2)
            }
            option += length
        }

        if type == solicitationType {
            if source.isUnspecified {
                guard linkLayerAddress == nil, destination == target.solicitedNodeGroup else {
                    return .malformed(.badDADProbe)
                }
            }
            return .ndp(
                NDPFrame(
                    ethernet: ethernet, source: source, destination: destination, message: .solicitation,
                    target: target, linkLayerAddress: linkLayerAddress))
        }
        let flags = NDPAdvertisementFlags(byte: frame[offset + 4])
        if destination.isMulticast && flags.solicited { return .malformed(.badNDPFlags) }
        return .ndp(
            NDPFrame(
                ethernet: ethernet, source: source, destination: destination, message: .advertisement(flags),
                target: target, linkLayerAddress: linkLayerAddress))
    }

    /// Parses a whole Ethernet frame: the Ethernet part with ``FrameParser``, then NDP.
    public static func parse(_ frame: UnsafeRawBufferPointer) -> ParsedNDPFrame {
        switch FrameParser.parse(frame) {
        case .notARP(let header): parse(frame, ethernet: header)
        case .malformed(let reason): .malformed(reason)
        case .arp: .notNDP
        }
    }

    /// Parses a frame held in an array (control plane and tests).
    public static func parse(_ frame: [UInt8]) -> ParsedNDPFrame {
        frame.withUnsafeBytes { parse($0) }
    }
}
