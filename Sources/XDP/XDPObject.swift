/// The compiled XDP program, embedded at build time by the XDPObjectPlugin (clang
/// `-target bpf` on Sources/XDP/proxyarp.bpf.c).
public enum XDPObject {
    /// The portable object's bytes (an ELF BPF object with BTF): the answering program
    /// without the offloaded-VLAN check (for `BPF_PROG_TEST_RUN`, where frames keep their
    /// tags) and ``passProgramName``. Labs load it with `ip link set ... xdp object`.
    public static let bytes: [UInt8] = decode(XDPObjectBytes.hex)

    /// The device-bound object's bytes: the answering program only, asking the driver for a
    /// VLAN tag it took off the frame (`bpf_xdp_metadata_rx_vlan_tag`). The daemon loads it
    /// once per adapter, bound to that device, sharing the portable object's maps.
    public static let boundBytes: [UInt8] = decode(XDPObjectBytes.boundHex)

    /// The name the kernel shows for the answering program (`bpftool prog`, `ip link`):
    /// how a restarted daemon recognises a program an earlier instance left attached.
    public static let programName = "proxyarp_xdp"

    /// The plain XDP_PASS program labs attach to veth peers so XDP_TX frames are delivered.
    public static let passProgramName = "proxyarp_pass"

    private static func decode(_ hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.utf8.count / 2)
        var high: UInt8?
        for digit in hex.utf8 {
            let value = digit <= UInt8(ascii: "9") ? digit &- UInt8(ascii: "0") : digit &- UInt8(ascii: "a") &+ 10
            if let first = high {
                bytes.append(first << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        return bytes
    }
}
