/// A first-in first-out queue: an array read from a moving head, compacted when the
/// consumed half outgrows the rest. Append and pop are O(1) amortised (`Array.removeFirst`
/// is O(n): 100,000 waiters served in order would cost O(n²) moves).
struct FIFOQueue<Element> {
    private var storage: [Element] = []
    private var head = 0

    /// Creates an empty queue.
    init() {}

    /// Number of elements waiting.
    var count: Int { storage.count - head }

    /// True when nothing waits.
    var isEmpty: Bool { head == storage.count }

    /// Adds `element` at the back.
    mutating func append(_ element: Element) {
        storage.append(element)
    }

    /// Removes and returns the front element, or nil when empty.
    mutating func popFirst() -> Element? {
        guard head < storage.count else { return nil }
        let element = storage[head]
        head += 1
        if head == storage.count {
            storage.removeAll(keepingCapacity: false)
            head = 0
        } else if head >= 1024 && head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return element
    }
}

extension FIFOQueue: Sendable where Element: Sendable {}
