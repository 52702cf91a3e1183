import ProxyARPCore

/// Parses the metrics `listen:` value `HOST:PORT`, where HOST must be a loopback
/// address: an IPv4 address in 127.0.0.0/8, `[::1]` (brackets required) or `localhost`.
enum MetricsListenAddress {
    /// The parsed host (without brackets) and port, or the reason the text is refused.
    static func parse(_ text: String) -> Result<(host: String, port: Int), Problem> {
        let host: String
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                return .failure(Problem("\"\(text)\" is not HOST:PORT (IPv6 hosts are written [::1]:9469)"))
            }
            host = String(text[text.index(after: text.startIndex)..<close])
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                return .failure(Problem("\"\(text)\" is not HOST:PORT, e.g. 127.0.0.1:9469"))
            }
            host = String(text[..<colon])
            portText = text[text.index(after: colon)...]
            if host.contains(":") {
                return .failure(Problem("\"\(text)\": write an IPv6 host in brackets, e.g. [::1]:9469"))
            }
        }
        guard !portText.isEmpty, portText.allSatisfy({ $0.isASCII && $0.isNumber }), let port = Int(portText),
            (0...65_535).contains(port)
        else {
            return .failure(Problem("port \"\(portText)\" in \"\(text)\" is not a number 0...65535 (0 disables metrics)"))
        }
        guard isLoopback(host) else {
            return .failure(Problem(
                "host \"\(host)\" is not a loopback address; metrics listen only on 127.0.0.0/8, [::1] or localhost"))
        }
        return .success((host, port))
    }

    private static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" { return true }
        guard let address = IPv4Address(host) else { return false }
        return address.octet(0) == 127
    }

    /// Why a listen address was refused.
    struct Problem: Error {
        let reason: String
        init(_ reason: String) { self.reason = reason }
    }
}
