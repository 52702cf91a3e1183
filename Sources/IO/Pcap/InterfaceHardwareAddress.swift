import Glibc
import ProxyARPCore

/// Reads an interface's MAC address from `/sys/class/net/<device>/address`.
enum InterfaceHardwareAddress {
    /// The MAC of `device`.
    /// - Throws: ``PcapError`` (operation `read MAC`) when the file is missing or unparsable.
    static func read(device: String) throws(PcapError) -> MACAddress {
        func fail(_ message: String) -> PcapError {
            PcapError(device: device, operation: "read MAC", message: message)
        }
        guard !device.isEmpty, !device.contains("/"), device != ".", device != ".." else {
            throw fail("not an interface name")
        }
        let path = "/sys/class/net/\(device)/address"
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw fail("\(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: 64)
        let count = bytes.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { throw fail("\(path): empty") }
        let text = String(decoding: bytes[..<count], as: UTF8.self).trimmingWhitespace
        guard let mac = MACAddress(text) else { throw fail("\(path): not a MAC address: \(text)") }
        return mac
    }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        String(self.filter { !$0.isWhitespace })
    }
}
