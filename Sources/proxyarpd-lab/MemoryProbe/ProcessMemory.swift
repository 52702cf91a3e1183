import CMalloc
#if canImport(Glibc)
import Glibc
#endif

/// This process's memory as the kernel and malloc see it.
struct ProcessMemory: CustomStringConvertible {
    /// `VmRSS` in KiB.
    var residentKiB: Int
    /// `VmHWM` (peak resident) in KiB.
    var peakKiB: Int
    /// Bytes malloc handed out and not yet got back: from its arenas (`uordblks`) and as
    /// blocks of their own (`hblkhd`).
    var heapInUse: Int
    /// Bytes of malloc arenas (`arena` + `hblkhd`).
    var heapMapped: Int

    /// Reads `/proc/self/status` and `mallinfo2()`.
    static func read() -> ProcessMemory {
        var fields: [String: Int] = [:]
        if let file = fopen("/proc/self/status", "r") {
            defer { fclose(file) }
            var line: UnsafeMutablePointer<CChar>?
            var capacity = 0
            while getline(&line, &capacity, file) > 0, let line {
                let text = String(cString: line)
                let parts = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ":" || $0 == "\n" })
                if parts.count >= 2, let value = Int(parts[1]) { fields[String(parts[0])] = value }
            }
            free(line)
        }
        let info = mallinfo2()
        return ProcessMemory(
            residentKiB: fields["VmRSS"] ?? 0, peakKiB: fields["VmHWM"] ?? 0,
            heapInUse: Int(info.uordblks + info.hblkhd), heapMapped: Int(info.arena + info.hblkhd)
        )
    }

    var description: String {
        "rss=\(residentKiB / 1024) MiB (\(residentKiB) kB) hwm=\(peakKiB / 1024) MiB "
            + "heapInUse=\(heapInUse / 1_048_576) MiB (\(heapInUse) B) heapMapped=\(heapMapped / 1_048_576) MiB"
    }
}
