import Foundation
import Glibc

/// CPU time as Linux accounts it in `/proc`, for the bench's cost-per-reply figures: on a
/// machine where the generator saturates first, the CPU a responder spends per reply
/// still tells two responders apart.
enum CPUTime {
    private static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// User + system seconds `pid` has used (`/proc/PID/stat` fields 14 and 15), all threads.
    static func process(_ pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name, which may hold spaces: state is field 3.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / ticksPerSecond
    }

    /// Seconds every CPU of the machine spent busy (`/proc/stat`, first line: all but nice,
    /// idle and iowait), softirq included: where the kernel answers ARP. Niced time is left
    /// out: other jobs on a shared machine run niced, the lab at nice 0.
    static func machineBusy() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = text.split(separator: "\n").first, line.hasPrefix("cpu ")
        else { return nil }
        let values = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard values.count >= 8 else { return nil }
        let busy = values[0..<8].enumerated().filter { $0.offset != 1 && $0.offset != 3 && $0.offset != 4 }.reduce(0) { $0 + $1.element }
        return busy / ticksPerSecond
    }
}
