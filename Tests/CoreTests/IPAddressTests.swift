import Foundation
import ProxyARPCore
import Testing

@Suite("IPAddress and VIPAddressSet: the family-blind VIP key")
struct IPAddressTests {
    @Test("Parses either family by the colon, prints it back, orders IPv4 first, encodes as text")
    func parseAndOrder() throws {
        let v4 = try #require(IPAddress("198.18.0.1"))
        let v6 = try #require(IPAddress("2001:db8::1"))
        #expect(v4 == .v4(IPv4Address(198, 18, 0, 1)) && v4.family == .ipv4 && v4.ipv6 == nil)
        #expect(v6.ipv6 == IPv6Address("2001:db8::1") && v6.family == .ipv6 && v6.ipv4 == nil)
        #expect(v6.description == "2001:db8::1" && v4.description == "198.18.0.1")
        #expect(IPAddress("198.18.0") == nil && IPAddress("2001:db8:::1") == nil && IPAddress("") == nil)
        #expect([v6, IPAddress("10.0.0.1")!, v4].sorted() == [IPAddress("10.0.0.1")!, v4, v6])
        #expect(IPAddress("2001:db8::2")! > v6)
        let json = String(decoding: try JSONEncoder().encode([v6, v4]), as: UTF8.self)
        #expect(json == #"["2001:db8::1","198.18.0.1"]"#)
        #expect(try JSONDecoder().decode([IPAddress].self, from: Data(json.utf8)) == [v6, v4])
    }

    @Test("VIPAddressSet keeps each family in its own set; insert and remove report changes")
    func addressSet() {
        var set = VIPAddressSet()
        #expect(set.isEmpty)
        let inserted = [
            set.insert(IPAddress("198.18.0.1")!), set.insert(IPAddress("2001:db8::1")!), set.insert(IPAddress("2001:db8::1")!),
        ]
        #expect(inserted == [true, true, false])
        #expect(set.count == 2 && set.ipv4.count == 1 && set.ipv6 == [IPv6Address("2001:db8::1")!])
        #expect(set.contains(IPAddress("198.18.0.1")!) && !set.contains(IPAddress("198.18.0.2")!))
        #expect(Set(set.elements) == [IPAddress("198.18.0.1")!, IPAddress("2001:db8::1")!])
        let removed = [set.remove(IPAddress("198.18.0.1")!), set.remove(IPAddress("198.18.0.1")!)]
        #expect(removed == [true, false])
        #expect(set.ipv4.isEmpty && set.count == 1)
    }

    @Test("VIPObservation carries either family's observation with its VIP")
    func observations() {
        let mac = MACAddress(0x02, 0, 0, 0, 0x0c, 0x01)
        #expect(VIPObservation(ARPObservation.conflict(vip: IPv4Address(198, 18, 0, 1), claimedBy: mac))
            == .conflict(vip: IPAddress("198.18.0.1")!, claimedBy: mac))
        #expect(VIPObservation(NDPObservation.ownAnnouncement(vip: IPv6Address("2001:db8::5")!, mac: mac)).vip
            == IPAddress("2001:db8::5")!)
    }
}
