import ProxyARPCore

/// Frames and answer views for the benchmarks: addresses from 198.18.0.0/15 only,
/// locally administered MACs.
public enum Fixtures {
    /// The answering adapter's MAC.
    public static let adapterMAC = MACAddress(0x02, 0xa0, 0, 0, 0, 0x10)
    /// A sibling adapter's MAC (one of ours).
    public static let siblingMAC = MACAddress(0x02, 0xa0, 0, 0, 0, 0x11)

    /// The `index`-th VIP: 198.19.x.y, then on into 198.18.0.0/16 past 65,536.
    public static func vip(_ index: Int) -> IPv4Address {
        IPv4Address(rawValue: IPv4Address(198, 18, 0, 0).rawValue &+ 0x1_0000 &+ UInt32(index % 131_072))
    }

    /// An adapter view answering for `vipCount` VIPs (all of them watched).
    public static func view(vipCount: Int) -> AnswerView {
        let vips = AddressSet((0..<vipCount).map(vip))
        return AnswerView(adapterMAC: adapterMAC, proxyList: vips, watchedVIPs: vips, ownMACs: [adapterMAC, siblingMAC])
    }

    /// A broadcast ARP request (42 bytes, as a client sends it) from requester
    /// number `requester` for `target`.
    public static func request(requester: Int, target: IPv4Address) -> [UInt8] {
        let mac: [UInt8] = [0x02, 0xc0, 0, UInt8(truncatingIfNeeded: requester >> 16), UInt8(truncatingIfNeeded: requester >> 8), UInt8(truncatingIfNeeded: requester)]
        let ip = IPv4Address(198, 18, 0, 0).rawValue &+ 0x100 &+ UInt32(requester & 0xffff)
        var frame: [UInt8] = Array(repeating: 0xff, count: 6) + mac + [0x08, 0x06]
        frame += [0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01]
        frame += mac + bytes(ip)
        frame += [0, 0, 0, 0, 0, 0] + bytes(target.rawValue)
        return frame
    }

    /// `count` requests, back to back in one buffer as pcap would hand them over, and
    /// the offset of each. Request `i` asks for `vip(i % vipCount)`.
    public static func batch(count: Int, vipCount: Int) -> RequestBatch {
        var storage: [UInt8] = []
        var offsets: [Int] = []
        for index in 0..<count {
            offsets.append(storage.count)
            storage += request(requester: index, target: vip((index &* 7919) % max(vipCount, 1)))
        }
        return RequestBatch(storage: storage, offsets: offsets, frameLength: 42)
    }

    private static func bytes(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }
}

/// Request frames laid out in one allocation, made before measuring.
public struct RequestBatch: @unchecked Sendable {
    /// The frames, back to back.
    public let storage: [UInt8]
    /// Where each frame starts.
    public let offsets: [Int]
    /// Bytes per frame.
    public let frameLength: Int

    /// The number of frames.
    public var count: Int { offsets.count }
}

/// One capture batch through Core's ``AnswerKernel``, the production per-frame code
/// (`CaptureBatch` runs it with `pcap_inject` as the send; here every send succeeds):
/// parse, decide, encode into `reply` (allocated once by the caller), tally, count the
/// reply per VIP in `repliesByVIP` (handed in empty and emptied again with its capacity
/// kept, as `AdapterIO` does). Returns the number of replies.
@inline(never)
public func answerBatch(
    _ batch: RequestBatch, view: AnswerView, reply: UnsafeMutableRawBufferPointer,
    repliesByVIP: inout [IPv4Address: UInt32]
) -> Int {
    var scratch: [IPv4Address: UInt32] = [:]
    swap(&scratch, &repliesByVIP)
    // `consume`: the kernel's table must be the only reference, or its first update copies it.
    var kernel = AnswerKernel(view: view, reply: reply, repliesByVIP: consume scratch)
    var observations = 0
    batch.storage.withUnsafeBytes { all in
        for offset in batch.offsets {
            let frame = UnsafeRawBufferPointer(rebasing: all[offset..<(offset + batch.frameLength)])
            if kernel.answer(frame, send: { _ in true }) != nil { observations &+= 1 }
        }
    }
    swap(&repliesByVIP, &kernel.repliesByVIP)
    repliesByVIP.removeAll(keepingCapacity: true)
    return kernel.replies &+ (observations & 0)
}
