/// The outcome of parsing one Ethernet frame.
public enum ParsedFrame: Hashable, Sendable {
    /// A well-formed ARP frame for IPv4 over Ethernet.
    case arp(ARPFrame)
    /// A well-formed Ethernet frame of another type.
    case notARP(EthernetHeader)
    /// A frame that cannot be used.
    case malformed(MalformedFrameReason)

    /// The classification of the frame.
    public var classification: FrameClassification {
        switch self {
        case .arp(let frame): FrameClassification(frame.kind)
        case .notARP(let header): .notARP(etherType: header.etherType)
        case .malformed(let reason): .malformed(reason)
        }
    }

    /// The ARP frame, when the frame is one.
    public var arpFrame: ARPFrame? {
        if case .arp(let frame) = self { return frame }
        return nil
    }
}

/// Parses Ethernet frames carrying ARP, straight from a raw buffer (e.g. the one libpcap
/// hands its callback), without allocating.
///
/// Accepted: Ethernet II with up to two VLAN tags (`0x8100`, `0x88A8`, in any order),
/// then ARP with htype 1, ptype `0x0800`, hlen 6, plen 4, opcode 1 or 2. Bytes after the
/// 28-byte ARP body (padding to 60, or anything up to a full 1514-byte frame) are ignored.
public enum FrameParser {
    /// Parses `frame`. Never traps, whatever the bytes.
    public static func parse(_ frame: UnsafeRawBufferPointer) -> ParsedFrame {
        let count = frame.count
        guard count >= EthernetHeader.untaggedLength else { return .malformed(.truncated) }
        let destination = frame.loadMAC(at: 0)
        let source = frame.loadMAC(at: 6)
        var tags = VLANTags()
        var offset = 12
        var etherType = frame.loadUInt16BE(at: offset)
        while EtherType.isVLANTag(etherType) {
            guard tags.count < VLANTags.maximumCount else { return .malformed(.tooManyVLANTags) }
            // The tag's TCI, then the next type field.
            guard count >= offset + 6 else { return .malformed(.truncated) }
            tags.append(VLANTag(tpid: etherType, tci: frame.loadUInt16BE(at: offset + 2)))
            offset += 4
            etherType = frame.loadUInt16BE(at: offset)
        }
        let header = EthernetHeader(destination: destination, source: source, tags: tags, etherType: etherType)
        guard etherType == EtherType.arp else { return .notARP(header) }

        let arp = offset + 2
        guard count >= arp + ARPPacket.length else { return .malformed(.truncated) }
        guard frame.loadUInt16BE(at: arp) == ARPPacket.hardwareTypeEthernet else {
            return .malformed(.badHardwareType)
        }
        guard frame.loadUInt16BE(at: arp + 2) == EtherType.ipv4 else { return .malformed(.badProtocolType) }
        guard frame[arp + 4] == ARPPacket.hardwareLength, frame[arp + 5] == ARPPacket.protocolLength else {
            return .malformed(.badAddressLengths)
        }
        guard let operation = ARPOperation(rawValue: frame.loadUInt16BE(at: arp + 6)) else {
            return .malformed(.unknownOpcode)
        }
        let packet = ARPPacket(
            operation: operation,
            senderMAC: frame.loadMAC(at: arp + 8),
            senderIP: frame.loadIPv4(at: arp + 14),
            targetMAC: frame.loadMAC(at: arp + 18),
            targetIP: frame.loadIPv4(at: arp + 24)
        )
        return .arp(ARPFrame(ethernet: header, arp: packet))
    }

    /// Parses a frame held in an array (control plane and tests).
    public static func parse(_ frame: [UInt8]) -> ParsedFrame {
        frame.withUnsafeBytes { parse($0) }
    }

    /// Classifies `frame`: shorthand for `parse(frame).classification`.
    public static func classify(_ frame: UnsafeRawBufferPointer) -> FrameClassification {
        parse(frame).classification
    }
}
