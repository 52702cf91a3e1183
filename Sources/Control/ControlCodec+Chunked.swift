import Foundation
import ProxyARPActors

extension ControlCodec {
    /// VIPs encoded per `JSONEncoder` call by ``lineBytes(_:)``.
    static let vipsPerChunk = 512

    /// `reply` as one line of JSON, newline included, as bytes: the same bytes as
    /// ``line(_:)``, made with less memory when the reply carries a large status.
    ///
    /// `JSONEncoder` builds a tree of small objects for the whole value before it writes a
    /// byte: for a status of 100,000 VIPs about 80 MB of small blocks that, once freed,
    /// stayed in the daemon's heap (and the line was then copied three times). Here the VIP
    /// list is encoded ``vipsPerChunk`` VIPs at a time into one output buffer, and the rest
    /// of the reply around it, so the tree never holds more than one chunk.
    public static func lineBytes(_ reply: ControlReply) throws -> [UInt8] {
        guard var shell = reply.status, shell.engine.vips.count > vipsPerChunk else {
            return try Array(encoder().encode(reply)) + [newline]
        }
        let vips = shell.engine.vips
        shell.engine.vips = []
        var outer = reply
        outer.status = shell
        let head = try Array(encoder().encode(outer))
        // With sorted keys the empty list appears once, as a key: a quote inside a string
        // value is always escaped, so `"vips":[]` cannot occur there.
        let marker = Array(#""vips":[]"#.utf8)
        guard let start = head.firstRange(of: marker)?.lowerBound else {
            return try Array(encoder().encode(reply)) + [newline]
        }
        let split = start + marker.count - 1  // just after the `[`
        var bytes = Array(head[..<split])
        let encoder = encoder()
        for first in stride(from: 0, to: vips.count, by: vipsPerChunk) {
            let chunk = try encoder.encode(Array(vips[first..<min(first + vipsPerChunk, vips.count)]))
            if first == 0 {
                // One allocation for the whole line, sized from the first chunk.
                bytes.reserveCapacity(head.count + (chunk.count + 1) * (vips.count / vipsPerChunk + 1))
            } else {
                bytes.append(UInt8(ascii: ","))
            }
            bytes += chunk.dropFirst().dropLast()  // the elements, without `[` and `]`
        }
        bytes += head[split...]
        bytes.append(newline)
        return bytes
    }

    private static let newline = UInt8(ascii: "\n")
}
