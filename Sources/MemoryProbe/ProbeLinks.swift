import ProxyARPCore

/// Link events: every link once, up with carrier, then whatever the probe emits (a carrier
/// loss for `--failover`).
final class ProbeLinks: LinkEvents {
    private let stream: AsyncStream<LinkEvent>
    private let continuation: AsyncStream<LinkEvent>.Continuation

    /// Reports `links` first.
    init(_ links: [LinkState]) {
        (stream, continuation) = AsyncStream.makeStream(of: LinkEvent.self)
        for link in links { continuation.yield(.changed(link)) }
    }

    func events() -> AsyncStream<LinkEvent> { stream }

    /// Reports `event`.
    func emit(_ event: LinkEvent) { continuation.yield(event) }
}
