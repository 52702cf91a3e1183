/// The kernel name of a managed physical adapter, e.g. `eth0`.
///
/// Ordered by name, which is the last, deterministic tie-break of agent selection.
public struct AdapterName: Hashable, Sendable, Comparable, Codable {
    /// The interface name as the kernel knows it.
    public let rawValue: String

    /// Wraps an interface name.
    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    public init(from decoder: any Decoder) throws {
        self.rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public static func < (lhs: AdapterName, rhs: AdapterName) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension AdapterName: CustomStringConvertible, ExpressibleByStringLiteral {
    /// The interface name.
    public var description: String { rawValue }

    public init(stringLiteral value: String) {
        self.init(value)
    }
}
