import LibFuzzerDriver
import ProxyARPCore

/// Fuzz target: `FrameParser.parse` and `AnswerRules.decide` over arbitrary bytes as one
/// captured Ethernet frame, under the fixed views of ``FrameViews``, with the invariants
/// of ``FrameInvariants`` (a violated one traps, and libFuzzer reports the input).
@main
enum FuzzFrames {
    static func main() {
        LibFuzzer.run(fuzzFrame)
    }
}

/// libFuzzer's entry: one input, one frame.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrame(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let frame = FuzzInput.bytes(start, count)
    FrameInvariants.checkParse(frame)
    for view in FrameViews.all {
        FrameInvariants.checkDecision(frame, view: view)
        NDPInvariants.check(frame, view: view)
    }
    return 0
}
