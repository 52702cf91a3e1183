/// Cuts a byte stream into top-level JSON objects, whatever the chunking: etcd's gateway
/// streams one `{"result":…}` object per watch response, separated by newlines, and HTTP
/// chunks may split or join them. Tracks string literals and escapes so braces inside
/// keys or values do not count.
struct JSONObjectSplitter {
    private var pending: [UInt8] = []
    private var depth = 0
    private var inString = false
    private var escaped = false
    /// Objects larger than this end the stream (a broken or hostile peer).
    let limit: Int

    /// A splitter refusing objects above `limit` bytes.
    init(limit: Int = 4 << 20) { self.limit = limit }

    /// Feeds `bytes`; returns the objects completed by them. Nil when an object exceeds the limit.
    mutating func feed(_ bytes: some Sequence<UInt8>) -> [[UInt8]]? {
        var complete: [[UInt8]] = []
        for byte in bytes {
            if depth == 0 {
                guard byte == UInt8(ascii: "{") else { continue }  // newlines, stray bytes between objects
            }
            pending.append(byte)
            if pending.count > limit { return nil }
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"): depth += 1
            case UInt8(ascii: "}"):
                depth -= 1
                if depth == 0 {
                    complete.append(pending)
                    pending.removeAll(keepingCapacity: true)
                }
            default: break
            }
        }
        return complete
    }
}
