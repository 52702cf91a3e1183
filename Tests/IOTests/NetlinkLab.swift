import Foundation
import Glibc
import ProxyARPCore
import Synchronization

/// A network namespace for one netlink test: created with `ip netns add`, driven with
/// `ip -n NAME ...`, deleted by ``destroy()`` (call it in a `defer`). The test process
/// itself never leaves the root namespace; the code under test enters this one through
/// its `namespacePath`.
struct NetlinkLab {
    private static let counter = Atomic<Int>(0)

    let name: String
    var path: String { "/var/run/netns/\(name)" }

    /// Creates `nlk<pid>x<n>`.
    static func make() throws -> NetlinkLab {
        let number = counter.add(1, ordering: .relaxed).newValue
        let lab = NetlinkLab(name: "nlk\(getpid())x\(number)")
        try mustRun(["ip", "netns", "add", lab.name])
        try lab.ip("link", "set", "lo", "up")
        return lab
    }

    /// Deletes the namespace (and with it every link, address, rule and route in it).
    func destroy() {
        _ = try? mustRun(["ip", "netns", "delete", name])
    }

    /// `ip -n NAME args...`; returns standard output, throws on a non-zero exit.
    @discardableResult
    func ip(_ arguments: String...) throws -> String {
        try mustRun(["ip", "-n", name] + arguments)
    }

    /// `ip netns exec NAME cat PATH`, trimmed.
    func read(_ file: String) throws -> String {
        try mustRun(["ip", "netns", "exec", name, "cat", file]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A veth pair `adapter`/`peer`, both inside the namespace, both up; `address`
    /// (`A.B.C.D/len`), when given, on `adapter`.
    func addVeth(_ adapter: String, peer: String, address: String? = nil) throws {
        try ip("link", "add", adapter, "type", "veth", "peer", "name", peer)
        try ip("link", "set", adapter, "up")
        try ip("link", "set", peer, "up")
        if let address { try ip("addr", "add", address, "dev", adapter) }
    }
}

/// Collects a link-event stream in the background, with the time each event arrived.
final class LinkEventRecorder: Sendable {
    private let task: Task<Void, Never>

    init(_ stream: AsyncStream<LinkEvent>) {
        let box = Box()
        task = Task.detached {
            for await event in stream {
                box.append(event, at: .now)
            }
        }
        self.box = box
    }

    private let box: Box

    private final class Box: Sendable {
        let events = Mutex<[(event: LinkEvent, at: ContinuousClock.Instant)]>([])
        func append(_ event: LinkEvent, at instant: ContinuousClock.Instant) {
            events.withLock { $0.append((event, instant)) }
        }
    }

    /// Every event so far.
    var events: [LinkEvent] { box.events.withLock { $0.map(\.event) } }

    /// Waits (polling every 5 ms, at most `seconds`) for an event after position `from`
    /// that satisfies `predicate`; returns it with its arrival time and position.
    func wait(
        from start: Int = 0, seconds: Double = 5, _ predicate: (LinkEvent) -> Bool
    ) async -> (event: LinkEvent, at: ContinuousClock.Instant, position: Int)? {
        let rounds = Int(seconds / 0.005)
        for _ in 0..<rounds {
            let snapshot = box.events.withLock { $0 }
            if start < snapshot.count {
                for position in start..<snapshot.count where predicate(snapshot[position].event) {
                    return (snapshot[position].event, snapshot[position].at, position)
                }
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }

    var count: Int { box.events.withLock { $0.count } }

    func cancel() { task.cancel() }
}

extension LinkEvent {
    /// The state when this is `.changed` for `name`.
    func state(of name: String) -> LinkState? {
        if case .changed(let state) = self, state.name.rawValue == name { return state }
        return nil
    }
}
