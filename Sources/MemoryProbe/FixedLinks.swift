import ProxyARPCore

/// Link events that report every link once, up with carrier, and then stay quiet.
struct FixedLinks: LinkEvents {
    let links: [LinkState]

    func events() -> AsyncStream<LinkEvent> {
        let links = self.links
        return AsyncStream { continuation in
            for link in links { continuation.yield(.changed(link)) }
        }
    }
}
