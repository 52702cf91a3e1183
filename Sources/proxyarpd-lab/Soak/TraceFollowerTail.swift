import Foundation
import ProxyARPCore

/// Reads what the soak's `proxyarpd trace --follow` client has printed since the last
/// call, and picks out the agent selections (`agentSelected`: VIP, MAC, monotonic time)
/// for the reply checker, and the latest sequence number (the trace ring's fill).
struct TraceFollowerTail {
    /// One agent selection.
    struct Selection: Sendable {
        var vip: IPv4Address
        var mac: MACAddress
        var at: Int64
    }

    let path: String
    private var offset: UInt64 = 0
    private var partial = Data()
    /// The highest `sequence` read so far.
    private(set) var latestSequence = 0
    /// Record lines read so far.
    private(set) var records = 0
    /// The monotonic time of the latest record read (nil before the first).
    private(set) var latestMonotonic: Int64?

    init(path: String) {
        self.path = path
    }

    /// The selections in the lines printed since the last call.
    mutating func read() -> [Selection] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        try? handle.seek(toOffset: offset)
        guard let data = try? handle.readToEnd(), !data.isEmpty else { return [] }
        offset += UInt64(data.count)
        partial.append(data)
        guard let lastNewline = partial.lastIndex(of: UInt8(ascii: "\n")) else { return [] }
        let complete = partial[partial.startIndex...lastNewline]
        partial = Data(partial[partial.index(after: lastNewline)...])
        var selections: [Selection] = []
        for line in complete.split(separator: UInt8(ascii: "\n")) where line.first == UInt8(ascii: "{") {
            records += 1
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else { continue }
            if let sequence = object["sequence"] as? Int { latestSequence = max(latestSequence, sequence) }
            if let monotonic = object["monotonic"] as? Int { latestMonotonic = max(latestMonotonic ?? 0, Int64(monotonic)) }
            guard let event = (object["event"] as? [String: Any])?["vip"] as? [String: Any],
                let selected = ((event["_0"] as? [String: Any])?["agentSelected"] as? [String: Any])?["_0"] as? [String: Any],
                let macText = selected["mac"] as? String, let mac = MACAddress(macText),
                let vipText = ((object["subject"] as? [String: Any])?["vip"] as? [String: Any])?["_0"] as? String,
                let vip = IPv4Address(vipText), let at = object["monotonic"] as? Int
            else { continue }
            selections.append(Selection(vip: vip, mac: mac, at: Int64(at)))
        }
        return selections
    }
}
