internal import CBPF

/// How an XDP program runs on an adapter.
public enum XDPAttachMode: String, Sendable, Hashable, CustomStringConvertible {
    /// In the driver (native XDP): before any socket buffer is built.
    case driver
    /// Generic (skb) XDP: after the socket buffer is built, for drivers without XDP support.
    case generic

    /// The `XDP_FLAGS_*` mode flag.
    var flag: UInt32 {
        switch self {
        case .driver: UInt32(XDP_FLAGS_DRV_MODE)
        case .generic: UInt32(XDP_FLAGS_SKB_MODE)
        }
    }

    /// `driver` or `generic`.
    public var description: String { rawValue }
}
