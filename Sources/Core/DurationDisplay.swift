/// A span of time as an operator reads it in `status` and on the timeline: `850ms`,
/// `1.2s`, `3m12s`, `2h5m`.
public enum DurationDisplay {
    /// `nanoseconds` as text.
    public static func text(nanoseconds: Int64) -> String {
        let ms = nanoseconds / 1_000_000
        if ms < 1000 { return "\(ms)ms" }
        if ms < 60_000 {
            let tenths = ms / 100
            return tenths % 10 == 0 ? "\(tenths / 10)s" : "\(tenths / 10).\(tenths % 10)s"
        }
        let seconds = ms / 1000
        if seconds < 3600 { return "\(seconds / 60)m\(seconds % 60)s" }
        return "\(seconds / 3600)h\(seconds % 3600 / 60)m"
    }
}
