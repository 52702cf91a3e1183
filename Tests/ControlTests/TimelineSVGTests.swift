import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import ProxyARPActors
import ProxyARPControl
import ProxyARPCore
import ProxyARPStateMachines
import Testing

/// Builds synthetic traces: only subject, time and target state matter to the timeline.
enum SyntheticTrace {
    static let wallOrigin: Int64 = 1_700_000_000_000_000_000

    static func record(_ sequence: UInt64, at ms: Int64, _ subject: TraceSubject, to: String, event: MachineEvent? = nil) -> MachineTraceRecord {
        MachineTraceRecord(
            sequence: sequence, monotonic: Instant(nanoseconds: 10_000_000_000 + ms * 1_000_000),
            wallNanoseconds: wallOrigin + ms * 1_000_000, subject: subject,
            event: event ?? .vipCreated(VIPActivationSettings(TimerConfiguration())), from: "x", to: to, action: "none"
        )
    }

    /// `count` VIPs activating on eth0 or eth1; eth0 loses carrier at 3 s and its VIPs fail over to eth2.
    static func failover(vips count: Int) -> [MachineTraceRecord] {
        var records: [MachineTraceRecord] = []
        var sequence: UInt64 = 0
        func add(_ ms: Int64, _ subject: TraceSubject, _ to: String) {
            sequence += 1
            records.append(record(sequence, at: ms, subject, to: to))
        }
        for adapter in ["eth0", "eth1", "eth2"] { add(0, .adapter(AdapterName(adapter)), "eligible(txerr 0)") }
        for index in 0..<count {
            let vip = TraceSubject.vip(.v4(IPv4Address(198, 18, 0, UInt8(100 + index))))
            let agent = index % 2 == 0 ? "eth0" : "eth1"
            add(10, vip, "pending(awaiting selection)")
            add(20, vip, "broadcast(\(agent) epoch 1 retx 0)")
            add(40, vip, "enqueued(\(agent) epoch 1 heard by eth2)")
            add(50, vip, "active(\(agent) epoch 1 rounds 1)")
        }
        add(3000, .adapter("eth0"), "down(noCarrier)")
        for index in stride(from: 0, to: count, by: 2) {
            let vip = TraceSubject.vip(.v4(IPv4Address(198, 18, 0, UInt8(100 + index))))
            add(3001, vip, "pending(agent eth0 lost)")
            add(3002, vip, "broadcast(eth2 epoch 2 retx 0)")
            add(3010, vip, "active(eth2 epoch 2 rounds 1)")
        }
        add(6000, .adapter("eth0"), "holdDown(noCarrier until 1 #1)")
        add(8000, .adapter("eth0"), "eligible(txerr 0)")
        return records
    }
}

/// Collects elements and their attributes while Foundation's parser reads the SVG.
final class SVGCollector: NSObject, XMLParserDelegate {
    var elements: [(name: String, attributes: [String: String])] = []
    var texts: [String] = []

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        elements.append((name, attributes))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { texts.append(string) }

    static func parse(_ svg: String) throws -> SVGCollector {
        let collector = SVGCollector()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = collector
        guard parser.parse() else { throw parser.parserError ?? CocoaError(.coderReadCorrupt) }
        return collector
    }

    func withClass(_ value: String) -> [[String: String]] {
        elements.filter { $0.attributes["class"] == value }.map(\.attributes)
    }
}

@Suite("SVG timeline")
struct TimelineSVGTests {
    @Test("parses as XML; one lane per VIP and per adapter; a legend; a failover mark per moved VIP")
    func structure() throws {
        let svg = TimelineSVG().render(SyntheticTrace.failover(vips: 50))
        let parsed = try SVGCollector.parse(svg)
        #expect(parsed.elements.first?.name == "svg")
        #expect(parsed.elements.first?.attributes["xmlns"] == "http://www.w3.org/2000/svg")
        let lanes = parsed.withClass("lane vip")
        #expect(lanes.count == 50)
        #expect(Set(lanes.compactMap { $0["data-vip"] }).count == 50)
        #expect(parsed.withClass("lane adapter").count == 3)
        #expect(parsed.withClass("legend").count == 1)
        for state in ["pending", "broadcast", "enqueued", "active", "withdrawn", "failed"] {
            #expect(parsed.texts.contains(state), "legend names \(state)")
        }
        #expect(parsed.withClass("failover").count == 25)
        #expect(parsed.withClass("adapter-down").count == 1)
        #expect(parsed.withClass("adapter-up").count == 4, "three initial ups and eth0's return")
        #expect(parsed.withClass("state active").count == 75, "each VIP active once, moved VIPs twice")
        #expect(parsed.withClass("axis").count == 1)
        #expect(parsed.texts.contains("8s") || parsed.texts.contains("5s"), "the axis is labelled in seconds")
    }

    @Test("text is escaped")
    func escaping() throws {
        let record = SyntheticTrace.record(1, at: 0, .vip(.v4(IPv4Address("198.18.0.1")!)), to: "failed(<&\"'> in x)")
        let svg = TimelineSVG().render([record], title: "a <b> & \"c\"")
        let parsed = try SVGCollector.parse(svg)
        #expect(parsed.withClass("lane vip").count == 1)
        #expect(parsed.withClass("state failed").count == 1)
        #expect(parsed.texts.joined().contains("a <b> & \"c\""))
    }

    @Test("an empty trace is still a valid SVG with a legend")
    func empty() throws {
        let parsed = try SVGCollector.parse(TimelineSVG().render([]))
        #expect(parsed.withClass("lane vip").isEmpty)
        #expect(parsed.withClass("legend").count == 1)
    }

    @Test("durations read like 850ms, 1.2s, 3m12s")
    func durations() {
        #expect(TimelineSVG.duration(850_000_000) == "850ms")
        #expect(TimelineSVG.duration(1_200_000_000) == "1.2s")
        #expect(TimelineSVG.duration(5_000_000_000) == "5s")
        #expect(TimelineSVG.duration(192_000_000_000) == "3m12s")
    }
}
