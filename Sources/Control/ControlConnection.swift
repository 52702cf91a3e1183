import ProxyARPCore

#if canImport(Glibc)
import Glibc
#endif

/// One client of the control socket as the control loop holds it: its non-blocking
/// socket, what it sent that is not handled yet, what is queued for it, and the clocks
/// its timeouts are measured from. Owned by the loop's thread only.
struct ControlConnection {
    /// A `trace --follow` in progress.
    struct Follow {
        /// The filters.
        var request: ControlRequest
        /// The last record sequence looked at.
        var after: UInt64
        /// Matching records skipped because the client read too slowly.
        var dropped: UInt64 = 0
        /// The drop count the client was last told.
        var reported: UInt64 = 0
    }

    /// Unique for the server's life (descriptors are reused, this is not).
    let id: UInt64
    /// The socket (non-blocking, close-on-exec).
    let fd: Int32
    /// Who connected.
    let peer: PeerCredentials
    /// Received bytes not yet split into request lines.
    var input: [UInt8] = []
    /// Queued reply bytes; `outputOffset` of them are sent.
    private(set) var output: [UInt8] = []
    private var outputOffset = 0
    /// Last input or output progress (monotonic nanoseconds).
    var lastActivity: Int64
    /// When the `status` or `reload` in progress started, if one is.
    var busySince: Int64?
    /// Set while following the trace.
    var follow: Follow?
    /// Close once the output is sent (after a refusal or a timeout notice).
    var closeWhenFlushed = false

    init(id: UInt64, fd: Int32, peer: PeerCredentials, now: Int64) {
        self.id = id
        self.fd = fd
        self.peer = peer
        lastActivity = now
    }

    /// Bytes queued and not sent yet.
    var pendingOutput: Int { output.count - outputOffset }

    /// True when nothing is in progress for this client: no request, no output, no follow.
    var isIdle: Bool { busySince == nil && follow == nil && pendingOutput == 0 }

    /// Queues bytes to send.
    mutating func enqueue(_ bytes: [UInt8]) {
        if outputOffset > 0, outputOffset == output.count {
            output.removeAll(keepingCapacity: output.count <= 1 << 20)
            outputOffset = 0
        }
        output += bytes
    }

    /// Sends as much as the socket takes now; false when the connection is broken.
    mutating func flush(now: Int64) -> Bool {
        while outputOffset < output.count {
            let count = output[outputOffset...].withUnsafeBytes {
                send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if count < 0 {
                if errno == EINTR { continue }
                return errno == EAGAIN || errno == EWOULDBLOCK
            }
            outputOffset += count
            lastActivity = now
        }
        if outputOffset == output.count {
            // Sent: give big buffers back (a `status --all` may have been megabytes).
            if output.count > 1 << 20 { output = [] } else { output.removeAll(keepingCapacity: true) }
            outputOffset = 0
        } else if outputOffset > 1 << 20, outputOffset * 2 > output.count {
            output.removeSubrange(..<outputOffset)
            outputOffset = 0
        }
        return true
    }
}
