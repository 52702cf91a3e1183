import Foundation
import ProxyARPControl
import ProxyARPCore
import ProxyARPStateMachines
import Testing

@Suite("SVG timeline: cluster units with their owner host")
struct TimelineOwnershipTests {
    /// Host lb1's view: it claims 198.18.4.0/26 and loses it to lb2 at 2 s (fenced before);
    /// 198.18.4.64/26 is lb3's, then lb2's after a takeover at 3 s.
    static func trace() -> [MachineTraceRecord] {
        var records: [MachineTraceRecord] = []
        func add(_ ms: Int64, _ unit: String, _ event: OwnershipEvent, from: String, to: String) {
            records.append(
                MachineTraceRecord(
                    sequence: UInt64(records.count + 1), monotonic: Instant(nanoseconds: 10_000_000_000 + ms * 1_000_000),
                    wallNanoseconds: 0, subject: .unit(unit), event: .ownership(event), from: from, to: to, action: "none"))
        }
        let a = "198.18.4.0/26"
        let b = "198.18.4.64/26"
        add(0, a, .eligibilityChanged(eligible: true, rank: 0), from: "unowned", to: "claiming")
        add(0, b, .observed(OwnershipHolder(host: "lb3", token: FencingToken(rawValue: 4), isOurs: false)), from: "unowned", to: "unowned(lb3 token 4)")
        add(5, a, .claimSucceeded(FencingToken(rawValue: 5)), from: "claiming", to: "owned(lb1 token 5)")
        add(1500, a, .fenceDeadlinePassed, from: "owned(lb1 token 5)", to: "fenced(lb1 token 5)")
        add(2000, a, .observed(OwnershipHolder(host: "lb2", token: FencingToken(rawValue: 8), isOurs: false)), from: "fenced(lb1 token 5)", to: "unowned(lb2 token 8)")
        add(3000, b, .observed(nil), from: "unowned(lb3 token 4)", to: "unowned")
        add(3040, b, .observed(OwnershipHolder(host: "lb2", token: FencingToken(rawValue: 9), isOurs: false)), from: "unowned", to: "unowned(lb2 token 9)")
        return records
    }

    @Test("one lane per unit; bars per owner host with its colour; fenced apart; milestones marked; an owner legend")
    func unitLanes() throws {
        let svg = TimelineSVG().render(Self.trace())
        let parsed = try SVGCollector.parse(svg)
        let lanes = parsed.withClass("lane unit")
        #expect(lanes.compactMap { $0["data-unit"] } == ["198.18.4.0/26", "198.18.4.64/26"])
        let owners = parsed.elements.filter { ($0.attributes["class"] ?? "").hasPrefix("owner") }.map(\.attributes)
        // a: none (claiming), lb1, lb1 fenced, lb2; b: lb3, none, lb2.
        #expect(owners.compactMap { $0["data-owner"] } == ["none", "lb1", "lb1", "lb2", "lb3", "none", "lb2"])
        #expect(owners.filter { $0["class"] == "owner fenced" }.count == 1)
        let lb2 = owners.filter { $0["data-owner"] == "lb2" }.compactMap { $0["fill"] }
        #expect(Set(lb2).count == 1, "a host keeps its colour on every lane")
        #expect(lb2.first != owners.first { $0["data-owner"] == "lb1" }?["fill"])
        let marks = parsed.withClass("ownership").compactMap { $0["data-kind"] }
        #expect(marks == ["claimed", "fenced", "lost", "owner changed"])
        #expect(parsed.withClass("legend owners").count == 1)
        #expect(parsed.texts.contains("lb3"))
    }
}
