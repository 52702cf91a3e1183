import ProxyARPIO
import ServiceLifecycle

/// Keeps the pcap I/O running until graceful shutdown. First in the group, so last to stop.
struct FrameIOService: Service {
    let io: PcapFrameIO

    func run() async throws {
        io.start()
        try? await gracefulShutdown()
        await io.shutdown()
    }
}
