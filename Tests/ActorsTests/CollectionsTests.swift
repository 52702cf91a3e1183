import Testing

@testable import ProxyARPActors

@Suite("Small collections of the engine")
struct CollectionsTests {
    @Test("MinHeap pops in ascending order, duplicates included, and empties")
    func minHeapOrder() {
        var heap = MinHeap<Int>()
        let values = (0..<500).map { ($0 * 7919) % 211 }
        for value in values { heap.insert(value) }
        #expect(heap.count == values.count)
        var popped: [Int] = []
        while let value = heap.popFirst() { popped.append(value) }
        #expect(popped == values.sorted())
        #expect(heap.first == nil)
    }

    @Test("FIFOQueue serves in order across compactions, interleaved with appends")
    func fifoOrder() {
        var queue = FIFOQueue<Int>()
        var expected: [Int] = []
        var served: [Int] = []
        var next = 0
        for round in 0..<50 {
            for _ in 0..<(round % 7 == 0 ? 3_000 : 40) {
                queue.append(next)
                expected.append(next)
                next += 1
            }
            for _ in 0..<(round * 37 % 101) {
                guard let value = queue.popFirst() else { break }
                served.append(value)
            }
            #expect(queue.count == expected.count - served.count)
        }
        while let value = queue.popFirst() { served.append(value) }
        #expect(served == expected)
        #expect(queue.isEmpty)
    }

    @Test("StringInterner hands out one buffer for equal texts, and equal texts past its capacity")
    func interner() {
        var interner = StringInterner(capacity: 8)
        let first = interner.intern(String(repeating: "active(eth0 epoch 1 rounds 1)", count: 1))
        let again = interner.intern(String("active(eth0 epoch 1 rounds 1)".reversed().reversed()))
        #expect(first == again)
        let buffers = [first, again].map { $0.utf8.withContiguousStorageIfAvailable { $0.baseAddress } }
        #expect(buffers[0] != nil && buffers[0] == buffers[1], "one shared buffer")
        #expect(interner.intern("none") == "none")
        for index in 0..<100 { #expect(interner.intern("pending(agent eth\(index) lost)") == "pending(agent eth\(index) lost)") }
    }

    @Test("forEachConcurrently runs every element, never more than `width` at once")
    func boundedFanOut() async {
        let gauge = Gauge()
        await forEachConcurrently(0..<1_000, width: 16) { _ in
            await gauge.enter()
            await Task.yield()
            await gauge.leave()
        }
        let (runs, most) = await gauge.result
        #expect(runs == 1_000)
        #expect(most <= 16)
        #expect(most > 1)
    }

    private actor Gauge {
        var running = 0
        var most = 0
        var runs = 0
        func enter() {
            running += 1
            runs += 1
            most = max(most, running)
        }
        func leave() { running -= 1 }
        var result: (Int, Int) { (runs, most) }
    }
}
