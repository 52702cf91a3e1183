// Big-endian field access on raw buffers. Callers check bounds first; these helpers
// only do the unaligned loads and stores.

extension UnsafeRawBufferPointer {
    @inline(__always)
    func loadUInt16BE(at offset: Int) -> UInt16 {
        UInt16(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inline(__always)
    func loadUInt32BE(at offset: Int) -> UInt32 {
        UInt32(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inline(__always)
    func loadMAC(at offset: Int) -> MACAddress {
        MACAddress(rawValue: UInt64(loadUInt16BE(at: offset)) << 32 | UInt64(loadUInt32BE(at: offset + 2)))
    }

    @inline(__always)
    func loadIPv4(at offset: Int) -> IPv4Address {
        IPv4Address(rawValue: loadUInt32BE(at: offset))
    }
}

extension UnsafeMutableRawBufferPointer {
    @inline(__always)
    func storeUInt16BE(_ value: UInt16, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt16.self)
    }

    @inline(__always)
    func storeUInt32BE(_ value: UInt32, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt32.self)
    }

    @inline(__always)
    func storeMAC(_ mac: MACAddress, at offset: Int) {
        storeUInt16BE(UInt16(truncatingIfNeeded: mac.rawValue >> 32), at: offset)
        storeUInt32BE(UInt32(truncatingIfNeeded: mac.rawValue), at: offset + 2)
    }

    @inline(__always)
    func storeIPv4(_ address: IPv4Address, at offset: Int) {
        storeUInt32BE(address.rawValue, at: offset)
    }
}
