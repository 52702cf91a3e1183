import Foundation
import ProxyARPCore
import ProxyARPIO
import ProxyARPTestSupport

/// The capture files kept in the repository (`Tests/Fixtures`, see its README).
enum TestData {
    static let linuxCapture = Fixtures.linuxCapture
    static let craftedCapture = Fixtures.craftedCapture
    static let vlanScopeCapture = Fixtures.vlanScopeCapture
    static let foreignClaimsCapture = Fixtures.foreignClaimsCapture

    /// All frames of a capture in `directory`.
    static func frames(_ name: String) throws -> [[UInt8]] {
        try CaptureFile(path: Fixtures.path(name)).frames
    }

    /// Frame `number` (1-based, as in Tests/Fixtures/README.md) of a capture.
    static func frame(_ number: Int, of name: String) throws -> [UInt8] {
        let all = try frames(name)
        guard (1...all.count).contains(number) else { throw Missing(name: name, number: number) }
        return all[number - 1]
    }

    struct Missing: Error { let name: String; let number: Int }
}

/// Bytes from a hex string; spaces are ignored.
func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.filter { !$0.isWhitespace })
    precondition(digits.count % 2 == 0, "odd hex string")
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

/// The addresses of the captures (Tests/Fixtures/README.md).
enum Lab {
    static let hostA = MACAddress(0x02, 0, 0, 0, 0x0a, 0x01)
    static let hostB = MACAddress(0x02, 0, 0, 0, 0x0b, 0x01)
    static let foreign = MACAddress(0x02, 0, 0, 0, 0x0c, 0x01)
    static let ipA = IPv4Address(198, 18, 0, 1)
    static let ipB = IPv4Address(198, 18, 0, 2)
    static let vip100 = IPv4Address(198, 18, 0, 100)
    static let vlanRequester = IPv4Address(192, 0, 2, 1)
    static let vlanVIP = IPv4Address(192, 0, 2, 2)

    /// Host B answering for 198.18.0.2, 198.18.0.100 and 192.0.2.2; watching those and
    /// 198.18.0.1 as well; only its own MAC is ours.
    static let hostBView = AnswerView(
        adapterMAC: hostB,
        proxyList: [ipB, vip100, vlanVIP],
        watchedVIPs: [ipB, vip100, vlanVIP],
        ownMACs: [hostB]
    )

    /// As ``hostBView``, but host A's own address 198.18.0.1 is one of our VIPs: everything
    /// A sends with it as sender address is a claim.
    static let claimView = AnswerView(
        adapterMAC: hostB,
        proxyList: hostBView.proxyList,
        watchedVIPs: [ipA, ipB, vip100, vlanVIP],
        ownMACs: [hostB]
    )

    /// As ``hostBView``, but host A's adapter is one of ours too (a sibling on the segment).
    static let siblingView = AnswerView(
        adapterMAC: hostB,
        proxyList: hostBView.proxyList,
        watchedVIPs: claimView.watchedVIPs,
        ownMACs: [hostA, hostB]
    )
}
