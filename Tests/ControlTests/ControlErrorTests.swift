import Glibc
import ProxyARPControl
import Testing

@Suite("Control errors carry a code")
struct ControlErrorTests {
    @Test("a failure reply carries its code on the wire")
    func failureCode() throws {
        let line = try ControlCodec.line(ControlReply.failure("permission denied", code: .permissionDenied))
        let reply = try #require(ControlCodec.reply(line.dropLast()))
        #expect(!reply.ok)
        #expect(reply.code == .permissionDenied)
    }

    @Test("connecting where no daemon listens is .notRunning")
    func notRunning() {
        #expect {
            _ = try ControlClient(path: "/tmp/proxyarpd-no-such-socket-\(getpid())")
        } throws: { ($0 as? ControlSocketError)?.code == .notRunning }
    }
}
