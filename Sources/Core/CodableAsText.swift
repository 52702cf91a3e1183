/// A value that is encoded as its text form (`"198.18.0.1"`, `"02:00:00:00:0a:01"`,
/// `"198.18.0.10/24"`) in JSON and YAML, so trace dumps and status replies read well.
public protocol CodableAsText: Codable, LosslessStringConvertible {}

extension CodableAsText {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = Self(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a valid \(Self.self): \(text)")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
