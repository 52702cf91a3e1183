import ProxyARPCore
import Testing

// Shared fixtures for the state-machine tests: addresses from 198.18.0.0/15 only,
// locally administered MACs, and instants far from zero so that negative offsets
// (flap windows) never underflow.

enum Fixture {
    /// The reference instant every scenario starts from.
    static let t0 = Instant(nanoseconds: 1_000_000_000_000)

    static let vip = IPAddress.v4(IPv4Address(198, 18, 0, 100))

    static let macA = MACAddress(0x02, 0x00, 0x00, 0x00, 0x00, 0x0a)
    static let macB = MACAddress(0x02, 0x00, 0x00, 0x00, 0x00, 0x0b)
    static let macC = MACAddress(0x02, 0x00, 0x00, 0x00, 0x00, 0x0c)
    /// Not one of ours: an announcement from it is untrusted input.
    static let foreignMAC = MACAddress(0x02, 0xff, 0xee, 0xdd, 0xcc, 0xbb)
}

extension Instant {
    static func + (lhs: Instant, rhs: Duration) -> Instant { lhs.advanced(by: rhs) }
    static func - (lhs: Instant, rhs: Duration) -> Instant { lhs.advanced(by: .zero - rhs) }
}
