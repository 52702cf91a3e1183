import Foundation

/// The machine's 1, 5 and 15 minute load averages (`/proc/loadavg`): the lab's runs (bench,
/// soak, cluster bench) read them at start and end, and the end-to-end tests beside the
/// timelines they print, so that every figure is reported with the load it was taken
/// under. The one reader of `/proc/loadavg` of the lab and the tests.
public enum LoadAverage {
    /// The three averages; empty when `/proc/loadavg` cannot be read.
    public static func read() -> [Double] {
        fields().compactMap { Double($0) }
    }

    /// The three averages as `/proc/loadavg` writes them (`1.87 1.73 2.08`); `?` when it
    /// cannot be read.
    public static func text() -> String {
        let fields = fields()
        return fields.isEmpty ? "?" : fields.joined(separator: " ")
    }

    private static func fields() -> [Substring] {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return Array(text.split(separator: " ").prefix(3))
    }
}
