import ProxyARPCore
import ProxyARPTestSupport
import Testing

/// The failover tests' reading of their captures: which lost echo the failover could not
/// have saved, and the kernel's and the daemon's times read from strace and the daemon log.
@Suite("EchoLedger and FailoverWitness: reading a failover's captures")
struct EchoLedgerTests {
    static let client = MACAddress(0x02, 0xc0, 0, 0, 0, 0x01)
    static let old = MACAddress(0x02, 0xa0, 0, 0, 0, 0x10)
    static let new = MACAddress(0x02, 0xa0, 0, 0, 0, 0x11)

    /// An untagged ICMPv6 echo request (128) or reply (129) with sequence `sequence`.
    static func echo(from source: MACAddress, to destination: MACAddress, request: Bool, sequence: UInt16) -> [UInt8] {
        func bytes(_ mac: MACAddress) -> [UInt8] { (0..<6).map { UInt8(truncatingIfNeeded: mac.rawValue >> (40 - 8 * $0)) } }
        var frame = bytes(destination) + bytes(source) + [0x86, 0xDD]
        var ipv6 = [UInt8](repeating: 0, count: 40)
        ipv6[0] = 0x60
        ipv6[5] = 8
        ipv6[6] = 58
        ipv6[7] = 64
        frame += ipv6
        frame += [request ? 128 : 129, 0, 0, 0, 0x12, 0x34, UInt8(sequence >> 8), UInt8(sequence & 0xFF)]
        return frame
    }

    /// seq 1 answered by the old agent; seq 2 to the old MAC after the cut, flooded to h1;
    /// the announcement reaches the client at 15; seq 3 to the new MAC, delivered to h1.
    static func ledger(thirdAnswered: Bool, thirdReplyFrom: String = "h1") -> EchoLedger {
        var clientFrames: [([UInt8], Int64)] = [
            (echo(from: client, to: old, request: true, sequence: 1), 0),
            (echo(from: old, to: client, request: false, sequence: 1), 1),
            (echo(from: client, to: old, request: true, sequence: 2), 10),
            (echo(from: client, to: new, request: true, sequence: 3), 20),
        ]
        if thirdAnswered { clientFrames.append((echo(from: new, to: client, request: false, sequence: 3), 21)) }
        let h0 = [echo(from: client, to: old, request: true, sequence: 1), echo(from: old, to: client, request: false, sequence: 1)]
        var h1 = [echo(from: client, to: old, request: true, sequence: 2), echo(from: client, to: new, request: true, sequence: 3)]
        if thirdReplyFrom == "h1" { h1.append(echo(from: new, to: client, request: false, sequence: 3)) }
        return EchoLedger(client: clientFrames, clientMAC: client, adapters: [("h0", old, h0), ("h1", new, h1)])
    }

    @Test("a request flooded to the old MAC before the announcement is the window's loss; nothing else is explained")
    func windowLossOnly() {
        let ledger = Self.ledger(thirdAnswered: true)
        #expect(ledger.lost.map(\.echo.sequence) == [2])
        #expect(ledger.lost.first?.loss == .floodedToDeadMAC)
        #expect(ledger.lossesOutsideTheWindow(oldMAC: Self.old, oldAgent: "h0", announcedAt: 15).isEmpty)
        #expect(ledger.firstRequest(notTo: Self.old)?.sequence == 3)
        #expect(ledger.lastDelivered(to: Self.old)?.sequence == 1)
        #expect(ledger.firstFlooded(to: Self.old)?.sequence == 2)
    }

    @Test("a lost echo to the new agent, or one sent after the announcement, is reported")
    func lossesOutsideTheWindow() {
        let ledger = Self.ledger(thirdAnswered: false)
        let outside = ledger.lossesOutsideTheWindow(oldMAC: Self.old, oldAgent: "h0", announcedAt: 15)
        #expect(outside.count == 1 && outside.first?.hasPrefix("seq 3") == true, "\(outside)")
        #expect(ledger.lost.last?.loss == .replyLost)
        // The announcement only at 5: seq 2 (sent at 10 to the old MAC) is outside too.
        #expect(ledger.lossesOutsideTheWindow(oldMAC: Self.old, oldAgent: "h0", announcedAt: 5).count == 2)
    }

    @Test("strace's RTM_NEWLINK sendmsg and the daemon's link-read line are read to the nanosecond")
    func kernelAndDaemonTimes() {
        let strace = """
            1795967232.001000 sendmsg(3, {msg_name={sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, msg_namelen=12, msg_iov=[{iov_base=[{nlmsg_len=32, nlmsg_type=RTM_GETLINK, nlmsg_flags=NLM_F_REQUEST}], iov_len=32}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 32 <0.000020>
            1795967232.004250 sendmsg(3, {msg_name={sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, msg_namelen=12, msg_iov=[{iov_base=[{nlmsg_len=32, nlmsg_type=RTM_NEWLINK, nlmsg_flags=NLM_F_REQUEST|NLM_F_ACK}], iov_len=32}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 32 <0.000220>
            """
        let cut = KernelCut(straceLog: strace)
        #expect(cut?.start == 1_795_967_232_004_250_000)
        #expect(cut?.end == 1_795_967_232_004_470_000)
        let log = """
            2026-11-29T15:47:05+0000 debug proxyarpd: adapter=h0 adminUp=true carrier=true readAtWallNanoseconds=1795967225000000000 [ProxyARPIO] link monitor: link state read
            2026-11-29T15:47:12+0000 debug proxyarpd: adapter=h1 adminUp=true carrier=false readAtWallNanoseconds=1795967232001000000 [ProxyARPIO] link monitor: link state read
            2026-11-29T15:47:12+0000 debug proxyarpd: adapter=h0 adminUp=true carrier=false readAtWallNanoseconds=1795967232005128270 [ProxyARPIO] link monitor: link state read
            """
        #expect(FailoverWitness.linkLossReadAt(in: log, adapter: "h0", after: 1_795_967_232_000_000_000) == 1_795_967_232_005_128_270)
        #expect(FailoverWitness.linkLossReadAt(in: log, adapter: "h2", after: 0) == nil)
        let standby = """
            2026-11-29T18:44:21+0000 info proxyarpd: adapter=h1 from=h0 sentAtWallNanoseconds=1795977861629317015 vips=1 [ProxyARPIO] standby agent announced ahead of the control plane
            2026-11-29T18:44:21+0000 info proxyarpd: adapter=h0 begunAtWallNanoseconds=1795977861629052733 standbys=h1=1 viaCaptureThread=false [ProxyARPIO] link lost: announced its standby agents
            """
        #expect(FailoverWitness.standbyAnnouncedAt(in: standby, from: "h0", after: 0) == 1_795_977_861_629_317_015)
        #expect(FailoverWitness.standbyAnnouncementBegunAt(in: standby, from: "h0", after: 0) == 1_795_977_861_629_052_733)
        #expect(FailoverWitness.standbyAnnouncedAt(in: standby, from: "h1", after: 0) == nil, "h1 is the standby, not the lost agent")
        #expect(FailoverWitness.standbyAnnouncedAt(in: standby, from: "h0", after: 1_795_977_861_629_317_016) == nil)
    }
}
