/// Hands out one shared copy of each recently seen string, so that equal strings kept in
/// the trace ring share one buffer. Most trace texts repeat: states such as
/// `active(eth0 epoch 1 rounds 1)` and many actions are the same for thousands of VIPs,
/// and each record held its own heap copy of each (about 10 MB of a full 65,536-record
/// ring). The table is emptied when it reaches `capacity`, which bounds it; strings
/// already handed out stay shared.
struct StringInterner {
    private var table: Set<String> = []
    private let capacity: Int

    /// Creates an empty interner keeping at most `capacity` distinct strings.
    init(capacity: Int = 4096) {
        self.capacity = max(1, capacity)
    }

    /// `text`, or an equal string handed out before (sharing its storage). Small strings
    /// (15 UTF-8 bytes or fewer) are stored inline anyway and returned as they are.
    mutating func intern(_ text: String) -> String {
        guard text.utf8.count > 15 else { return text }
        if let existing = table.firstIndex(of: text) { return table[existing] }
        if table.count >= capacity { table.removeAll(keepingCapacity: true) }
        table.insert(text)
        return text
    }
}
