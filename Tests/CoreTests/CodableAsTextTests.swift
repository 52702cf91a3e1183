import Foundation
import ProxyARPCore
import Testing

@Suite("Addresses encode as their text form")
struct CodableAsTextTests {
    @Test("JSON of an address, a MAC and an interface is the text form, and decodes back")
    func textForm() throws {
        struct Sample: Codable, Equatable {
            var ip: IPv4Address
            var mac: MACAddress
            var interface: IPv4Interface
        }
        let sample = Sample(ip: IPv4Address("198.18.0.1")!, mac: MACAddress("02:00:00:00:0a:01")!, interface: IPv4Interface("198.18.0.10/24")!)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(sample), as: UTF8.self)
        #expect(json == #"{"interface":"198.18.0.10\/24","ip":"198.18.0.1","mac":"02:00:00:00:0a:01"}"#)
        #expect(try JSONDecoder().decode(Sample.self, from: Data(json.utf8)) == sample)
    }

    @Test("a bad text is a decoding error that names the type")
    func badText() {
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([IPv4Address].self, from: Data(#"["198.18.0.300"]"#.utf8))
        }
    }
}
