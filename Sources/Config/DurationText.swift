/// The duration syntax of the configuration file: a decimal number and a unit,
/// `250ms`, `1.5s`, `2s`, `5m`, or a bare `0`.
///
/// Units: `ns`, `us`, `ms`, `s`, `m`, `h`. At most nine fraction digits; the value must be a
/// whole number of nanoseconds. Negative durations do not exist here.
public enum DurationText {
    private static let units: [(suffix: String, nanoseconds: Int64)] = [
        ("ns", 1), ("us", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000),
        ("m", 60_000_000_000), ("h", 3_600_000_000_000),
    ]

    /// Parses `text`, or returns nil when it is not a duration in this syntax.
    public static func parse(_ text: String) -> Duration? {
        if text == "0" { return .zero }
        let number = text.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        let suffix = text.dropFirst(number.count)
        guard let unit = units.first(where: { $0.suffix == suffix }) else { return nil }
        let parts = number.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, let wholeValue = Int64(whole) else { return nil }
        var total = wholeValue.multipliedReportingOverflow(by: unit.nanoseconds)
        guard !total.overflow else { return nil }
        if parts.count == 2 {
            let fraction = parts[1]
            guard (1...9).contains(fraction.count), !fraction.contains("."),
                let fractionValue = Int64(fraction)
            else { return nil }
            var scale: Int64 = 1
            for _ in 0..<fraction.count { scale *= 10 }
            let scaled = fractionValue.multipliedReportingOverflow(by: unit.nanoseconds)
            guard !scaled.overflow, scaled.partialValue % scale == 0 else { return nil }
            total = total.partialValue.addingReportingOverflow(scaled.partialValue / scale)
            guard !total.overflow else { return nil }
        }
        return .nanoseconds(total.partialValue)
    }

    /// Writes `duration` in the largest unit that keeps it whole: `5m`, `2s`, `1200ms`, `0`.
    /// The result parses back to the same value. Negative durations print as `-` plus the magnitude.
    public static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        if nanoseconds == 0 { return "0" }
        if nanoseconds < 0 { return "-" + format(.nanoseconds(-nanoseconds)) }
        for unit in units.reversed() where nanoseconds % unit.nanoseconds == 0 {
            return "\(nanoseconds / unit.nanoseconds)\(unit.suffix)"
        }
        return "\(nanoseconds)ns"
    }
}
