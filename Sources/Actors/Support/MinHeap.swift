/// A binary min-heap: the smallest element first. Insert and pop are O(log n).
struct MinHeap<Element: Comparable> {
    private var elements: [Element] = []

    /// Creates an empty heap.
    init() {}

    /// The smallest element, if any.
    var first: Element? { elements.first }

    /// Number of elements.
    var count: Int { elements.count }

    /// Adds `element`.
    mutating func insert(_ element: Element) {
        elements.append(element)
        var child = elements.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard elements[child] < elements[parent] else { break }
            elements.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the smallest element, or nil when empty.
    mutating func popFirst() -> Element? {
        guard !elements.isEmpty else { return nil }
        elements.swapAt(0, elements.count - 1)
        let smallest = elements.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smaller = parent
            if left < elements.count && elements[left] < elements[smaller] { smaller = left }
            if right < elements.count && elements[right] < elements[smaller] { smaller = right }
            guard smaller != parent else { break }
            elements.swapAt(parent, smaller)
            parent = smaller
        }
        if elements.isEmpty { elements = [] }  // give the storage back once drained
        return smallest
    }
}

extension MinHeap: Sendable where Element: Sendable {}
