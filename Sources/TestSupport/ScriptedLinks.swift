import ProxyARPCore

/// Link events a test emits by hand, standing in for rtnetlink.
public final class ScriptedLinks: LinkEvents {
    private let stream: AsyncStream<LinkEvent>
    private let continuation: AsyncStream<LinkEvent>.Continuation

    /// Creates an empty script.
    public init() {
        (stream, continuation) = AsyncStream.makeStream(of: LinkEvent.self)
    }

    public func events() -> AsyncStream<LinkEvent> { stream }

    /// Emits an event.
    public func emit(_ event: LinkEvent) { continuation.yield(event) }

    /// Ends the stream.
    public func finish() { continuation.finish() }
}
