/// One libFuzzer input as Swift sees it.
public enum FuzzInput {
    /// The input's bytes (empty when libFuzzer passes a null pointer for an empty input).
    public static func bytes(_ start: UnsafePointer<UInt8>?, _ count: Int) -> UnsafeRawBufferPointer {
        guard let start, count > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: start, count: count)
    }

    /// The input as text: invalid UTF-8 is repaired (U+FFFD), as `String(decoding:)` does
    /// for a file read by the daemon.
    public static func text(_ start: UnsafePointer<UInt8>?, _ count: Int) -> String {
        String(decoding: bytes(start, count), as: UTF8.self)
    }
}
