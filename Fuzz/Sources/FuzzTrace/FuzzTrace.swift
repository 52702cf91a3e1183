import LibFuzzerDriver
import ProxyARPActors
import ProxyARPStateMachines

/// Fuzz target: arbitrary bytes as a state-trace dump. `TraceFile.read` must return
/// records or throw a ``TraceFile/BadLine`` naming a line of the file; what it read must
/// survive `TraceReplay.replay` (divergences are fine, a trap is not) and encode back to
/// lines that read again to the same records.
@main
enum FuzzTrace {
    static func main() {
        LibFuzzer.run(fuzzTrace)
    }
}

/// libFuzzer's entry: one input, one dump file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTrace(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    // An empty file: FoundationEssentials' `String(contentsOfFile:)` leaks its 4 KiB read
    // buffer for it (a toolchain bug, reported by LeakSanitizer), and it holds no record.
    guard count > 0 else { return 0 }
    let path = DumpFile.write(FuzzInput.bytes(start, count))
    let records: [MachineTraceRecord]
    do {
        records = try TraceFile.read(path)
    } catch let bad as TraceFile.BadLine {
        let lines = FuzzInput.bytes(start, count).count(where: { $0 == UInt8(ascii: "\n") }) + 1
        precondition((1...lines).contains(bad.line), "bad line outside the file: \(bad)")
        return 0
    } catch {
        return 0  // not UTF-8: String(contentsOfFile:) refuses it, as it does for the CLI
    }
    let report = TraceReplay.replay(records)
    precondition(report.replayed + report.skipped <= records.count, "replayed more records than read")
    do {
        DumpFile.write(Array(try TraceFile.encode(records).utf8))
        let reread = try TraceFile.read(path)
        precondition(reread == records, "records do not survive encode and read")
    } catch {
        preconditionFailure("records read from a dump do not encode and read back: \(error)")
    }
    return 0
}
