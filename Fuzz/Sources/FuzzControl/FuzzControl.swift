import LibFuzzerDriver
import ProxyARPActors
import ProxyARPControl
import ProxyARPStateMachines

/// Fuzz target: arbitrary bytes as lines read from the control socket, decoded as the
/// server decodes a request and the client a reply or trace record. Decoding must throw
/// or succeed, never trap; what decodes must encode and decode back to the same value,
/// and a reply's chunked encoding (`ControlCodec.lineBytes`) must equal its plain one,
/// also with its VIP list grown past one chunk.
@main
enum FuzzControl {
    static func main() {
        LibFuzzer.run(fuzzControl)
    }
}

/// libFuzzer's entry: one input, split into lines as the socket reader splits them.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzControl(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let text = FuzzInput.text(start, count)
    for line in text.split(separator: "\n", omittingEmptySubsequences: true).prefix(8) {
        if let request = try? ControlCodec.decode(ControlRequest.self, from: line) {
            ControlRoundTrip.check(request)
        }
        if let reply = ControlCodec.reply(line) {
            ControlRoundTrip.checkReply(reply)
        }
        if let record = try? ControlCodec.decode(MachineTraceRecord.self, from: line) {
            ControlRoundTrip.check(record)
        }
    }
    return 0
}
