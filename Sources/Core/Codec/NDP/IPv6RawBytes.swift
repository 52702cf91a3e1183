// IPv6 field access on raw buffers, beside RawBytes.swift's. Callers check bounds first.

extension UnsafeRawBufferPointer {
    @inline(__always)
    func loadUInt64BE(at offset: Int) -> UInt64 {
        UInt64(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    @inline(__always)
    func loadIPv6(at offset: Int) -> IPv6Address {
        IPv6Address(high: loadUInt64BE(at: offset), low: loadUInt64BE(at: offset + 8))
    }
}

extension UnsafeMutableRawBufferPointer {
    @inline(__always)
    func storeUInt64BE(_ value: UInt64, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt64.self)
    }

    @inline(__always)
    func storeIPv6(_ address: IPv6Address, at offset: Int) {
        storeUInt64BE(address.high, at: offset)
        storeUInt64BE(address.low, at: offset + 8)
    }
}
