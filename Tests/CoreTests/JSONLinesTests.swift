import ProxyARPCore
import Testing

@Suite("JSON Lines framing")
struct JSONLinesTests {
    @Test("each value is one line with its newline; empty lines are skipped when reading")
    func roundTrip() throws {
        let bytes = JSONLines.encode(["1", "22"]) { Array($0.utf8) }
        #expect(bytes == Array("1\n22\n".utf8))
        let values = try JSONLines.decode(Array("1\n\n22\n".utf8)) { line -> Int in
            guard let value = Int(String(decoding: line, as: UTF8.self)) else { throw Refusal() }
            return value
        }
        #expect(values == [1, 22])
    }

    @Test("a line that does not decode is reported with its 1-based number")
    func badLine() {
        #expect {
            try JSONLines.decode(Array("1\n\nx\n".utf8)) { line -> Int in
                guard let value = Int(String(decoding: line, as: UTF8.self)) else { throw Refusal() }
                return value
            }
        } throws: { ($0 as? JSONLines.BadLine)?.line == 3 }
    }

    private struct Refusal: Error {}
}
