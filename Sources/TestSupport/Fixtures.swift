/// The test fixtures kept in the repository (`Tests/Fixtures`): real and crafted captures,
/// described frame by frame in its README.
public enum Fixtures {
    /// `<package>/Tests/Fixtures`, found from this file's place in the package.
    public static let directory: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Sources/TestSupport/Fixtures.swift
        return (parts + ["Tests", "Fixtures"]).joined(separator: "/")
    }()

    /// The capture of the Linux kernel and iputils talking ARP and NDP across a veth pair.
    public static let linuxCapture = "linux-arp-ndp.pcap"
    /// ARP edge cases built with scapy: VLAN tags, truncation, bad lengths, probes, claims.
    public static let craftedCapture = "crafted-arp-edge-cases.pcap"
    /// Requests for 198.18.0.100 tagged with VLAN 10, a priority tag, QinQ, and a foreign
    /// claim on VLAN 10 (scapy, `make-crafted-captures.py`).
    public static let vlanScopeCapture = "vlan-scope.pcap"
    /// Another host using 198.18.0.100 as its own address (scapy, `make-crafted-captures.py`).
    public static let foreignClaimsCapture = "foreign-claims.pcap"
    /// Linux Neighbor Discovery across a veth pair, and the kernel's reaction to crafted
    /// solicitations (`capture-linux-ndp.sh`).
    public static let linuxNDPCapture = "linux-ndp.pcap"
    /// The crafted solicitations alone, then foreign advertisements (scapy, `ndp_crafted.py`).
    public static let craftedNDPCapture = "ndp-crafted.pcap"

    /// The full path of the fixture `name`.
    public static func path(_ name: String) -> String { directory + "/" + name }
}
