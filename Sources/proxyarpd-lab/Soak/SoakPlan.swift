import ProxyARPCore
import ProxyARPTestSupport

/// What a soak does, and the lab it does it in.
struct SoakPlan: Sendable {
    /// Seconds of load (the run ends at the first report line at or after it).
    var seconds: Double
    /// ARP requests per second, spread over every VIP.
    var rate: Int
    /// A carrier flap starts every this many seconds (adapters in turn).
    var flapEvery: Double
    /// Seconds the carrier stays down.
    var flapPause: Double
    /// Seconds between SIGHUPs (the configuration alternates between A and B).
    var reloadEvery: Double
    /// Seconds between report lines.
    var reportEvery: Double
    /// Seconds between `proxyarpd status` calls (the plain table).
    var statusEvery: Double
    /// Seconds between the checker's `status --all --json` polls.
    var pollEvery: Double
    /// Seconds between SIGUSR1 dumps.
    var dumpEvery: Double
    /// The wrong-reply allowance around each reply.
    var graceMilliseconds: Int
    /// How long a VIP may be seen not active before it counts as stuck.
    var stuckAfter: Double
    /// `selection.block_prefix_length`.
    var blockPrefixLength: Int
    /// `timers.hold_down` (the daemon doubles it per failure within 60 s, up to ×16): with
    /// every adapter flapping once per `flapEvery × adapters` seconds, a hold-down whose ×16 is
    /// longer than that keeps every adapter in hold-down at once, for as long as the flapping
    /// goes on (the default 2 s did, in the first 30-minute run: every VIP pending).
    var holdDown: String

    /// The adapters: h0, h1, h2 on the client's subnet 198.18.0.0/24, h3 alone on 198.18.1.0/24
    /// (its VIPs fall back to the others when it flaps).
    static let adapters = HostLab.defaultAdapters.prefix(2) + [
        HostLab.Adapter(name: "h2", mac: MACAddress(0x02, 0xa0, 0, 0, 0, 0x12), address: IPv4Interface("198.18.0.12/24")!, switchPort: "s-h2"),
        HostLab.Adapter(name: "h3", mac: MACAddress(0x02, 0xa0, 0, 0, 0, 0x13), address: IPv4Interface("198.18.1.10/24")!, switchPort: "s-h3"),
    ]

    /// VIPs in both configurations: four /26 blocks off every adapter's subnet (198.19.0.0/24),
    /// 64 single addresses on h0-h2's subnet and 32 on h3's: 352.
    static let commonVIPs = [
        "198.19.0.0/26", "198.19.0.64/26", "198.19.0.128/26", "198.19.0.192/26",
        "198.18.0.100-198.18.0.163", "198.18.1.100-198.18.1.131",
    ]
    /// VIPs only in configuration A (4).
    static let onlyA = ["198.18.0.200-198.18.0.203"]
    /// VIPs only in configuration B (4).
    static let onlyB = ["198.19.1.0-198.19.1.3"]

    /// The addresses of `entries` (`A.B.C.D`, `A-B` ranges, `A/len` blocks, every address included).
    static func expand(_ entries: [String]) -> [IPv4Address] {
        entries.flatMap { entry -> [IPv4Address] in
            if let slash = entry.firstIndex(of: "/"), let base = IPv4Address(String(entry[..<slash])),
                let length = Int(entry[entry.index(after: slash)...])
            {
                let size = UInt32(1) << UInt32(32 - length)
                return (0..<size).map { IPv4Address(rawValue: base.rawValue + $0) }
            }
            if let dash = entry.firstIndex(of: "-"), let low = IPv4Address(String(entry[..<dash])),
                let high = IPv4Address(String(entry[entry.index(after: dash)...]))
            {
                return (low.rawValue...high.rawValue).map { IPv4Address(rawValue: $0) }
            }
            return IPv4Address(entry).map { [$0] } ?? []
        }
    }
}
