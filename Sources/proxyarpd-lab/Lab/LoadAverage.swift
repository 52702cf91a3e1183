import Foundation

/// The machine's 1, 5 and 15 minute load averages (`/proc/loadavg`): the lab's runs (bench,
/// soak, cluster bench) read them at start and end, so that their figures are reported with
/// the load they were taken under. The one reader of `/proc/loadavg` in the lab.
enum LoadAverage {
    /// The three averages; empty when `/proc/loadavg` cannot be read.
    static func read() -> [Double] {
        fields().compactMap { Double($0) }
    }

    /// The three averages as `/proc/loadavg` writes them (`1.87 1.73 2.08`); `?` when it
    /// cannot be read.
    static func text() -> String {
        let fields = fields()
        return fields.isEmpty ? "?" : fields.joined(separator: " ")
    }

    private static func fields() -> [Substring] {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return Array(text.split(separator: " ").prefix(3))
    }
}
