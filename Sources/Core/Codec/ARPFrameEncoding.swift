extension ARPFrame {
    /// Writes the frame into `buffer` starting at byte 0 and returns the number of bytes
    /// written: ``length`` (42 untagged, 46 with one tag, 50 with two). No padding is
    /// added: the driver pads short frames, and a veth sends them as they are.
    ///
    /// The buffer is the caller's (allocate it once, up front); this never allocates.
    /// - Precondition: `buffer.count >= length` (use ``ARPEncoder/maximumLength``).
    @discardableResult
    public func encode(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let total = length
        precondition(buffer.count >= total, "ARP frame buffer too small")
        buffer.storeMAC(ethernet.destination, at: 0)
        buffer.storeMAC(ethernet.source, at: 6)
        var offset = 12
        for index in 0..<ethernet.tags.count {
            let tag = ethernet.tags[index]
            buffer.storeUInt16BE(tag.tpid, at: offset)
            buffer.storeUInt16BE(tag.tci, at: offset + 2)
            offset += 4
        }
        buffer.storeUInt16BE(EtherType.arp, at: offset)
        let arpOffset = offset + 2
        buffer.storeUInt16BE(ARPPacket.hardwareTypeEthernet, at: arpOffset)
        buffer.storeUInt16BE(EtherType.ipv4, at: arpOffset + 2)
        buffer[arpOffset + 4] = ARPPacket.hardwareLength
        buffer[arpOffset + 5] = ARPPacket.protocolLength
        buffer.storeUInt16BE(arp.operation.rawValue, at: arpOffset + 6)
        buffer.storeMAC(arp.senderMAC, at: arpOffset + 8)
        buffer.storeIPv4(arp.senderIP, at: arpOffset + 14)
        buffer.storeMAC(arp.targetMAC, at: arpOffset + 18)
        buffer.storeIPv4(arp.targetIP, at: arpOffset + 24)
        return total
    }

    /// The frame as a new array of ``length`` bytes (control plane and tests).
    public var bytes: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: length) { storage, initialized in
            initialized = encode(into: UnsafeMutableRawBufferPointer(storage))
        }
    }
}
