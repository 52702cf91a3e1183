/// A bounded ring of trace records: appending past capacity drops the oldest.
///
/// A value type; the actor that owns it serialises access.
public struct TraceRing<Element: Sendable>: Sendable {
    /// The most records kept.
    public let capacity: Int
    private var storage: [Element] = []
    private var head = 0
    /// Records dropped because the ring was full.
    public private(set) var dropped: UInt64 = 0

    /// Creates an empty ring; `capacity` is at least 1.
    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        storage.reserveCapacity(min(self.capacity, 4096))
    }

    /// Appends a record, dropping the oldest when full.
    public mutating func append(_ element: Element) {
        if storage.count < capacity {
            storage.append(element)
        } else {
            storage[head] = element
            head = (head + 1) % capacity
            dropped += 1
        }
    }

    /// The records, oldest first.
    public var elements: [Element] {
        Array(storage[head...]) + Array(storage[..<head])
    }

    /// Number of records held.
    public var count: Int { storage.count }

    /// Up to `limit` records starting at logical position `offset` (0 is the oldest held),
    /// oldest first. Copies only what it returns.
    public func elements(from offset: Int, limit: Int) -> [Element] {
        let start = max(0, offset)
        let end = min(storage.count, start + max(0, limit))
        guard start < end else { return [] }
        var result: [Element] = []
        result.reserveCapacity(end - start)
        for position in start..<end { result.append(storage[(head + position) % storage.count]) }
        return result
    }
}
