import CLinuxNet
import Glibc
import ProxyARPCore

/// A send-only `AF_PACKET` socket: the link monitor's thread sends a lost agent's standby
/// announcements through it itself, without waking the standby's capture thread.
///
/// Not a libpcap handle: a handle opened to send would also capture (a ring buffer per
/// adapter, every frame copied into it); this socket is opened with protocol 0, so the
/// kernel delivers it nothing. One socket serves every adapter (the interface index is
/// given per frame). Opening it needs `CAP_NET_RAW`: the daemon opens it before dropping
/// privileges. Sendable by construction: one descriptor, and `sendto(2)` may be called
/// from any thread.
final class PacketSender: Sendable {
    private let descriptor: Int32

    /// Opens the socket; nil with the reason when the kernel refuses (e.g. without `CAP_NET_RAW`).
    static func open() -> Result<PacketSender, TransmitError> {
        let descriptor = cln_packet_sender()
        guard descriptor >= 0 else {
            return .failure(TransmitError(adapter: "-", code: .refused, reason: "AF_PACKET socket: \(String(cString: strerror(-descriptor)))"))
        }
        return .success(PacketSender(descriptor: descriptor))
    }

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }

    /// Sends `frames`, whole Ethernet frames, out of the interface `index` (of `adapter`, for
    /// the error), in order; stops at the first the kernel refuses.
    func send(_ frames: [[UInt8]], index: Int32, adapter: AdapterName) throws(TransmitError) {
        for frame in frames {
            let result = frame.withUnsafeBytes { cln_packet_send(descriptor, index, $0.baseAddress, $0.count) }
            guard result == 0 else {
                throw TransmitError(adapter: adapter, code: .refused, reason: String(cString: strerror(-result)))
            }
        }
    }
}
