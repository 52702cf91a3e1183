#if canImport(Glibc)
import Glibc
#endif

/// The one file `TraceFile.read` reads each input from (it reads paths only): in
/// `/dev/shm` when present (no disk), one per process, removed at exit.
enum DumpFile {
    static let path: String = {
        let directory = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        let path = "\(directory)/proxyarpd-fuzz-trace-\(getpid()).jsonl"
        atexit { unlink(DumpFile.path) }
        return path
    }()

    /// Replaces the file's contents with `bytes`; returns its path.
    @discardableResult
    static func write<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(descriptor >= 0, "cannot open \(path)")
        defer { close(descriptor) }
        let contiguous = Array(bytes)
        var written = 0
        while written < contiguous.count {
            let result = contiguous.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + written, $0.count - written) }
            precondition(result > 0, "cannot write \(path)")
            written += result
        }
        return path
    }
}
