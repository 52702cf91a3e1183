import ProxyARPCore
import ProxyARPIO
import ProxyARPTestSupport
import Testing

/// The binary search inside the capture filter, run by libpcap's own interpreter
/// (`pcap_offline_filter`) against a straightforward Swift model of the rules, over random
/// range sets: every bound, the addresses just inside and just outside it, and random ones.
@Suite("Capture filter binary search")
struct CaptureFilterSearchTests {
    /// The same random sets on every run, so a failure can be replayed.
    typealias SeededGenerator = SplitMix64

    /// `count` sorted, disjoint, non-adjacent ranges (so merging keeps `count` of them), of
    /// random widths (often one address) and gaps (often the smallest, one address), placed
    /// at a random start; with `touchingEnds` (and more than one) the first starts at 0 and
    /// the last is UInt32.max alone.
    static func randomRanges(_ count: Int, touchingEnds: Bool, using generator: inout SeededGenerator) -> [ClosedRange<UInt32>] {
        let widths = (0..<count).map { _ in Bool.random(using: &generator) ? UInt64(0) : UInt64.random(in: 0...200, using: &generator) }
        let gaps = (0..<count).map { _ in Bool.random(using: &generator) ? UInt64(1) : UInt64.random(in: 1...5_000, using: &generator) }
        let span = widths.reduce(0, +) + gaps.reduce(0, +) + UInt64(count)
        let touchingEnds = touchingEnds && count > 1
        var next: UInt64 = touchingEnds ? 0 : UInt64.random(in: 0...(UInt64(UInt32.max) - span), using: &generator)
        var ranges: [ClosedRange<UInt32>] = []
        for index in 0..<count {
            let upper = next + widths[index]
            if touchingEnds, index == count - 1 {
                ranges.append(UInt32.max...UInt32.max)
                break
            }
            ranges.append(UInt32(next)...UInt32(upper))
            next = upper + gaps[index] + 1
        }
        return ranges
    }

    /// The rules the program implements, for a plain Ethernet/IPv4 request.
    static func modelAccepts(target: UInt32, sender: UInt32, served: [ClosedRange<UInt32>], watched: [ClosedRange<UInt32>]) -> Bool {
        sender == 0 || sender == target || served.contains { $0.contains(target) } || watched.contains { $0.contains(sender) }
    }

    /// Every bound of `ranges`, one inside and one outside it, and a few random addresses.
    static func probes(around ranges: [ClosedRange<UInt32>], using generator: inout SeededGenerator) -> [UInt32] {
        var probes: [UInt32] = [0, 1, UInt32.max - 1, UInt32.max]
        for range in ranges {
            let lower = Int64(range.lowerBound)
            let upper = Int64(range.upperBound)
            for value in [lower - 1, lower, lower + 1, upper - 1, upper, upper + 1] where (0...Int64(UInt32.max)).contains(value) {
                probes.append(UInt32(value))
            }
        }
        probes += (0..<200).map { _ in UInt32.random(in: 0...UInt32.max, using: &generator) }
        return probes
    }

    static func request(target: UInt32, sender: UInt32) -> [UInt8] {
        CaptureFilterProgramTests.request(target: IPv4Address(rawValue: target), sender: IPv4Address(rawValue: sender))
    }

    /// One comparison of program and model over `served` and `watched`, each passed shuffled.
    static func compare(served: [ClosedRange<UInt32>], watched: [ClosedRange<UInt32>], using generator: inout SeededGenerator) throws {
        let program = try #require(CaptureFilterProgram(
            served: served.shuffled(using: &generator), watched: watched.shuffled(using: &generator), snapshotLength: 128))
        #expect(program.served == served && program.watched == watched)
        // Someone neither served nor watched, neither 0 nor a probe value below.
        var found: UInt32?
        for _ in 0..<1_000 where found == nil {
            let value = UInt32.random(in: 1...UInt32.max, using: &generator)
            if !served.contains(where: { $0.contains(value) }) && !watched.contains(where: { $0.contains(value) }) { found = value }
        }
        let bystander = try #require(found)
        var mismatches: [String] = []
        for probe in probes(around: served, using: &generator) {
            let sender = probe == bystander ? bystander &+ 1 : bystander
            let expected = modelAccepts(target: probe, sender: sender, served: served, watched: watched)
            if program.accepts(request(target: probe, sender: sender)) != expected { mismatches.append("target \(probe): model \(expected)") }
        }
        for probe in probes(around: watched, using: &generator) {
            let expected = modelAccepts(target: bystander, sender: probe, served: served, watched: watched)
            if program.accepts(request(target: bystander, sender: probe)) != expected { mismatches.append("sender \(probe): model \(expected)") }
        }
        #expect(mismatches.isEmpty, "\(served.count) served, \(watched.count) watched: \(mismatches.prefix(10))")
    }

    @Test("The program agrees with the model at, inside and just outside every bound", arguments: [1, 2, 75, 76, 521, 2_000])
    func agreesWithModel(count: Int) throws {
        var generator = SeededGenerator(seed: UInt64(count))
        for round in 0..<3 {
            let many = Self.randomRanges(count, touchingEnds: round == 2, using: &generator)
            let few = Self.randomRanges(Int.random(in: 0...3, using: &generator), touchingEnds: false, using: &generator)
            try Self.compare(served: many, watched: few, using: &generator)
            try Self.compare(served: few, watched: many, using: &generator)
        }
    }

    @Test("Overlapping, adjacent and unsorted ranges are merged first")
    func mergesRanges() throws {
        let served: [ClosedRange<UInt32>] = [50...60, 10...20, 21...30, 15...25, 61...61, 100...100, 0...0]
        let program = try #require(CaptureFilterProgram(served: served, watched: [UInt32.max...UInt32.max, 7...9], snapshotLength: 128))
        #expect(program.served == [0...0, 10...30, 50...61, 100...100])
        #expect(program.watched == [7...9, UInt32.max...UInt32.max])
        var generator = SeededGenerator(seed: 7)
        try Self.compare(served: program.served, watched: program.watched, using: &generator)
    }

    @Test("Size grows by about 2 instructions per range, the longest path by about log2 of the ranges")
    func sizeAndDepth() throws {
        var generator = SeededGenerator(seed: 99)
        for count in [1, 75, 521, 2_000] {
            let ranges = Self.randomRanges(count, touchingEnds: false, using: &generator)
            let program = try #require(CaptureFilterProgram(served: ranges, watched: [], snapshotLength: 128))
            let blocks = (count + 119) / 120
            #expect(program.instructions.count <= 31 + 2 * count + 4 * blocks, "\(count) ranges: \(program.instructions.count)")
            let log2 = Int.bitWidth - (count - 1).leadingZeroBitCount  // ceil(log2(count)) for count >= 1
            #expect(program.longestPath <= 31 + 2 * log2 + 8, "\(count) ranges: longest path \(program.longestPath)")
        }
        let linearWorstCase = 2 * 521
        let atScale = try #require(CaptureFilterProgram(
            served: Self.randomRanges(521, touchingEnds: false, using: &generator), watched: [], snapshotLength: 128))
        #expect(atScale.longestPath * 10 < linearWorstCase)
    }
}
