@testable import ProxyARPDaemon
import Testing

@Suite("sd_notify messages")
struct SystemdMessageTests {
    @Test("Each message is the exact datagram systemd expects", arguments: [
        (SystemdMessage.ready(active: 3, of: 4), "READY=1\nSTATUS=3 of 4 VIPs active"),
        (SystemdMessage.watchdog, "WATCHDOG=1"),
        (SystemdMessage.stopping, "STOPPING=1\nSTATUS=withdrawing VIPs"),
        (SystemdMessage.reloading(monotonicMicroseconds: 123_456_789), "RELOADING=1\nMONOTONIC_USEC=123456789"),
        (SystemdMessage.reloaded, "READY=1"),
    ])
    func text(message: SystemdMessage, expected: String) {
        #expect(message.text == expected)
    }

    @Test("A status stays on one line: a newline would start another assignment")
    func statusOnOneLine() {
        #expect(SystemdMessage.status("a\nb\r\nc") == "STATUS=a b c")
    }
}
