import Foundation
import Logging
import ProxyARPActors
import ProxyARPIO

extension Daemon {
    /// Writes the trace ring to `DIRECTORY/trace-WALLNANOS.jsonl`.
    static func dumpTrace(_ trace: TraceLog, to directory: String, clock: SystemClock, logger: Logger) {
        let path = "\(directory)/trace-\(clock.wallNanoseconds()).jsonl"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let records = trace.records
            try TraceFile.write(records, to: path)
            logger.info("trace written", metadata: ["path": "\(path)", "records": "\(records.count)", "dropped": "\(trace.dropped)"])
        } catch {
            logger.error("trace dump failed", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }
}
