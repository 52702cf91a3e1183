/// The compiled XDP program, embedded at build time by the XDPObjectPlugin (clang
/// `-target bpf` on Sources/XDP/proxyarp.bpf.c).
public enum XDPObject {
    /// The object's bytes (an ELF BPF object with BTF).
    public static let bytes: [UInt8] = decode(XDPObjectBytes.hex)

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
