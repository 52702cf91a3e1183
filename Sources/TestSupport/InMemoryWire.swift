import ProxyARPCore
import Synchronization

/// An Ethernet segment in memory, standing in for the pcap I/O: frames sent by one
/// adapter are decided by every sibling attached to the same segment, exactly as the
/// real answer path would (``AnswerRules``), and what they observe comes back as
/// observation batches. The sender itself never hears its own frame, as with a packet
/// socket. With `keepsSentFrames: false` it keeps no copy of what was sent (the memory
/// probe measures the engine, not the wire).
public final class InMemoryWire: FrameIO {
    /// One attached adapter.
    public struct Port: Sendable, Equatable {
        /// Its MAC.
        public var mac: MACAddress
        /// The segment it is plugged into; nil when cut off.
        public var segment: String?
        /// When true, sends fail with a transmit error.
        public var transmitFails: Bool
        /// False after ``closeCapture(on:)``: the port neither sends nor hears.
        public var captureOpen = true
        /// Times ``openCapture(on:)`` opened it again.
        public var reopenings = 0
    }

    /// A frame that left an adapter.
    public struct SentFrame: Sendable, Equatable {
        /// The adapter.
        public var adapter: AdapterName
        /// The bytes.
        public var bytes: [UInt8]
        /// When.
        public var at: Instant
    }

    private struct State {
        var ports: [AdapterName: Port] = [:]
        var sent: [SentFrame] = []
        var lostVIPs: Set<IPAddress> = []
        var sendsHeld = false
        var heldSends: [CheckedContinuation<Void, Never>] = []
    }

    /// The published answer table, as the real I/O path would read it.
    public let answerTable = AnswerTablePublisher()
    private let state = Mutex(State())
    private let clock: any EngineClock
    private let keepsSentFrames: Bool
    private let stream: AsyncStream<[HeardObservation]>
    private let continuation: AsyncStream<[HeardObservation]>.Continuation

    /// Creates an empty wire; with `keepsSentFrames: false`, ``sentFrames`` stays empty.
    public init(clock: any EngineClock, keepsSentFrames: Bool = true) {
        self.clock = clock
        self.keepsSentFrames = keepsSentFrames
        (stream, continuation) = AsyncStream.makeStream(of: [HeardObservation].self)
    }

    /// Plugs `adapter` into `segment`.
    public func attach(_ adapter: AdapterName, mac: MACAddress, segment: String?) {
        state.withLock { $0.ports[adapter] = Port(mac: mac, segment: segment, transmitFails: false) }
    }

    /// The port of `adapter`, if attached.
    public func port(_ adapter: AdapterName) -> Port? { state.withLock { $0.ports[adapter] } }

    public func openCapture(on adapter: AdapterName) async throws(CaptureError) {
        let opened = state.withLock { state -> Bool in
            guard state.ports[adapter] != nil else { return false }
            state.ports[adapter]?.captureOpen = true
            state.ports[adapter]?.reopenings += 1
            return true
        }
        guard opened else { throw CaptureError(adapter: adapter, reason: "not attached") }
    }

    public func closeCapture(on adapter: AdapterName) async {
        state.withLock { $0.ports[adapter]?.captureOpen = false }
    }

    /// Moves `adapter` to another segment, or cuts it off (nil).
    public func setSegment(_ adapter: AdapterName, _ segment: String?) {
        state.withLock { $0.ports[adapter]?.segment = segment }
    }

    /// Makes sends on `adapter` fail (or succeed again).
    public func setTransmitFails(_ adapter: AdapterName, _ fails: Bool) {
        state.withLock { $0.ports[adapter]?.transmitFails = fails }
    }

    /// Frames whose ARP sender address is one of `vips` are lost on the wire (sent, never
    /// heard): a VIP whose announcements go missing while the adapter is otherwise heard.
    public func setLost(_ vips: Set<IPAddress>) {
        state.withLock { $0.lostVIPs = vips }
    }

    /// Holds every send from now on in a queue, as behind a deep send queue (a burst of
    /// thousands of announcements on a loaded host): a send returns, and its frames reach
    /// the wire, only at ``releaseSends()``, stamped with the time they leave.
    public func holdSends() {
        state.withLock { $0.sendsHeld = true }
    }

    /// Lets every held send leave, in order, and sends no longer wait.
    public func releaseSends() {
        let waiting = state.withLock { state in
            state.sendsHeld = false
            defer { state.heldSends = [] }
            return state.heldSends
        }
        for send in waiting { send.resume() }
    }

    /// Sends waiting in the held queue.
    public var heldSendCount: Int { state.withLock { $0.heldSends.count } }

    /// Every frame sent so far, in order.
    public var sentFrames: [SentFrame] { state.withLock { $0.sent } }

    /// Ends the observation stream (the engine's input loop then finishes).
    public func finish() { continuation.finish() }

    public func observations() -> AsyncStream<[HeardObservation]> { stream }

    /// Delivers `batch` as if a capture had observed it (e.g. a foreign claim).
    public func deliver(_ batch: [HeardObservation]) { continuation.yield(batch) }

    public func send(_ frames: [[UInt8]], on adapter: AdapterName) async throws(TransmitError) {
        await withCheckedContinuation { (send: CheckedContinuation<Void, Never>) in
            let held = state.withLock { state in
                if state.sendsHeld { state.heldSends.append(send) }
                return state.sendsHeld
            }
            if !held { send.resume() }
        }
        let now = clock.now()
        let lost = state.withLock { $0.lostVIPs }
        let (port, siblings) = state.withLock { state -> (Port?, [(AdapterName, Port)]) in
            let port = state.ports[adapter]
            let siblings = state.ports.filter { name, other in
                name != adapter && other.captureOpen && other.segment != nil && other.segment == port?.segment
            }
            return (port, siblings.sorted { $0.key < $1.key })
        }
        guard let port else { throw TransmitError(adapter: adapter, code: .noSuchAdapter, reason: "not attached") }
        guard port.captureOpen else { throw TransmitError(adapter: adapter, code: .closed, reason: "capture closed") }
        if port.transmitFails { throw TransmitError(adapter: adapter, code: .refused, reason: "simulated transmit error") }
        if keepsSentFrames {
            state.withLock { state in
                state.sent += frames.map { SentFrame(adapter: adapter, bytes: $0, at: now) }
            }
        }
        let table = answerTable.current
        for (name, sibling) in siblings {
            let view = table.view(for: name, mac: sibling.mac)
            let heard = frames.compactMap { frame -> HeardObservation? in
                if !lost.isEmpty, case .arp(let parsed) = FrameParser.parse(frame), lost.contains(.v4(parsed.arp.senderIP)) {
                    return nil
                }
                if !lost.isEmpty, case .ndp(let parsed) = NDPParser.parse(frame), lost.contains(.v6(parsed.target)) {
                    return nil
                }
                return Self.observation(of: frame, view: view).map {
                    HeardObservation(observation: $0, adapter: name, at: now)
                }
            }
            if !heard.isEmpty { continuation.yield(heard) }
        }
    }

    /// What a capture with `view` reports for `frame`: ARP through ``AnswerRules``, Neighbor
    /// Discovery through ``NDPAnswerRules``, as the answer kernel decides them.
    static func observation(of frame: [UInt8], view: AnswerView) -> VIPObservation? {
        frame.withUnsafeBytes { bytes -> VIPObservation? in
            switch FrameParser.parse(bytes) {
            case .arp: return AnswerRules.decide(frame, view: view).observation.map(VIPObservation.init)
            case .malformed: return nil
            case .notARP(let header):
                guard case .ndp(let parsed) = NDPParser.parse(bytes, ethernet: header) else { return nil }
                return NDPAnswerRules.decide(parsed, view: view).observation.map(VIPObservation.init)
            }
        }
    }

    /// A client on `segment` sends `request`; returns each adapter's reply, as the answer
    /// path would send it.
    public func clientSends(_ request: [UInt8], on segment: String) -> [(adapter: AdapterName, reply: [UInt8])] {
        let ports = state.withLock { $0.ports.filter { $0.value.segment == segment && $0.value.captureOpen } }
        let table = answerTable.current
        return ports.sorted { $0.key < $1.key }.compactMap { name, port in
            guard let plan = AnswerRules.decide(request, view: table.view(for: name, mac: port.mac)).replyPlan else {
                return nil
            }
            return (name, plan.bytes)
        }
    }
}
