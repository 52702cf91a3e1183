/// A point on the daemon's monotonic clock, in nanoseconds since an arbitrary origin.
///
/// State machines take time as values of this type (`now:` arguments, deadlines in
/// actions), so they never read a clock themselves and tests drive them exactly.
public struct Instant: Hashable, Sendable, Comparable, Codable {
    /// Nanoseconds since the clock's origin.
    public let nanoseconds: Int64

    /// Creates an instant.
    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    /// The clock's origin.
    public static let zero = Instant(nanoseconds: 0)

    /// The instant `duration` later.
    public func advanced(by duration: Duration) -> Instant {
        Instant(nanoseconds: nanoseconds + duration.nanosecondsClamped)
    }

    /// The time from `earlier` to `self`.
    public func duration(since earlier: Instant) -> Duration {
        .nanoseconds(nanoseconds - earlier.nanoseconds)
    }

    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    public init(from decoder: any Decoder) throws {
        self.nanoseconds = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(nanoseconds)
    }
}

extension Duration {
    /// The duration in whole nanoseconds, clamped to `Int64`.
    public var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, overflow2) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        if overflow2 { return seconds < 0 ? .min : .max }
        return sum
    }
}
