import ProxyARPCore
import Synchronization

/// One Ethernet segment in memory that keeps nothing: a frame one adapter sends is decided
/// by every other adapter with the published answer table (``AnswerRules``), exactly as the
/// capture path would, and what they observe comes back as one observation batch. Unlike
/// the test wire it records no frames, so the probe measures the engine, not the wire.
final class SegmentWire: FrameIO {
    let answerTable = AnswerTablePublisher()
    private let ports: [(name: AdapterName, mac: MACAddress)]
    private let clock: any EngineClock
    private let stream: AsyncStream<[HeardObservation]>
    private let continuation: AsyncStream<[HeardObservation]>.Continuation

    /// A segment with `ports` plugged in.
    init(ports: [(name: AdapterName, mac: MACAddress)], clock: any EngineClock) {
        self.ports = ports
        self.clock = clock
        (stream, continuation) = AsyncStream.makeStream(of: [HeardObservation].self)
    }

    func observations() -> AsyncStream<[HeardObservation]> { stream }

    func send(_ frames: [[UInt8]], on adapter: AdapterName) async throws(TransmitError) {
        let now = clock.now()
        let table = answerTable.current
        var heard: [HeardObservation] = []
        for port in ports where port.name != adapter {
            let view = table.view(for: port.name, mac: port.mac)
            for frame in frames {
                if let observation = AnswerRules.decide(frame, view: view).observation {
                    heard.append(HeardObservation(observation: observation, adapter: port.name, at: now))
                }
            }
        }
        if !heard.isEmpty { continuation.yield(heard) }
    }
}
