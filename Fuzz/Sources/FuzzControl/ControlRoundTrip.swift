import ProxyARPActors
import ProxyARPControl

/// The round trips a decoded control message must survive; each traps when broken.
enum ControlRoundTrip {
    /// `value` encodes to one line that decodes to `value` again.
    static func check<Message: Codable & Equatable>(_ value: Message) {
        do {
            let line = try ControlCodec.line(value)
            precondition(line.last == "\n" && !line.dropLast().contains("\n"), "an encoded message is not one line")
            let decoded = try ControlCodec.decode(Message.self, from: line.dropLast())
            precondition(decoded == value, "\(Message.self) does not survive encode and decode")
        } catch {
            preconditionFailure("a decoded \(Message.self) does not encode and decode back: \(error)")
        }
    }

    /// The plain round trip, the chunked encoding equal to the plain one, and the same
    /// with the status's VIP list repeated past one chunk (the chunked path proper).
    static func checkReply(_ reply: ControlReply) {
        check(reply)
        checkChunked(reply)
        guard var status = reply.status, let first = status.engine.vips.first else { return }
        status.engine.vips = Array(repeating: first, count: 513) + status.engine.vips.prefix(8)
        var large = reply
        large.status = status
        checkChunked(large)
    }

    private static func checkChunked(_ reply: ControlReply) {
        do {
            let chunked = try ControlCodec.lineBytes(reply)
            let plain = Array(try ControlCodec.line(reply).utf8)
            precondition(chunked == plain, "lineBytes differs from line")
            precondition(ControlCodec.reply(String(decoding: chunked.dropLast(), as: UTF8.self)) == reply, "lineBytes does not decode back")
        } catch {
            preconditionFailure("a decoded reply does not encode: \(error)")
        }
    }
}
