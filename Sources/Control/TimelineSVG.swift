import ProxyARPCore
import ProxyARPStateMachines

/// Draws a state trace as an SVG timeline: one lane per VIP with its activation states as
/// coloured bars, failovers (agent changes) marked on the VIP's lane, in cluster mode one
/// lane per ownership unit with its owner host as coloured bars (one colour per host) and
/// its ownership milestones marked, one lane per adapter with its up/down events as marks,
/// a time axis with ticks, and a legend.
///
/// Plain string building; every text is escaped. Elements carry classes (`lane vip`,
/// `lane adapter`, `state STATE`, `failover`, `adapter-up`, `adapter-down`, `legend`,
/// `axis`, `lane unit`, `owner`, `ownership`) so that the picture can be checked by a
/// program as well as read.
public struct TimelineSVG {
    /// VIP activation states, in legend order, with their colours.
    public static let stateColours: [(state: String, colour: String)] = [
        ("pending", "#f0ad4e"), ("broadcast", "#5bc0de"), ("enqueued", "#337ab7"),
        ("active", "#5cb85c"), ("withdrawn", "#9e9e9e"), ("failed", "#d9534f"),
    ]

    /// Lane height in pixels.
    public var laneHeight = 14.0
    /// Space between lanes.
    public var laneGap = 4.0
    /// Width of the label column.
    public var labelWidth = 150.0
    /// Width of the time area.
    public var plotWidth = 960.0

    /// Creates a renderer with the default geometry.
    public init() {}

    /// A bar: one state of one VIP over a time span (nanoseconds since the first record).
    struct Bar: Equatable {
        var state: String
        var detail: String
        var start: Int64
        var end: Int64
    }

    /// A mark at one instant.
    struct Mark: Equatable {
        var kind: String
        var at: Int64
        var title: String
    }

    /// The SVG document for `records` (any order; sorted by sequence).
    public func render(_ records: [MachineTraceRecord], title: String = "proxyarpd state timeline") -> String {
        let sorted = records.sorted { $0.sequence < $1.sequence }
        let origin = sorted.map(\.monotonic.nanoseconds).min() ?? 0
        let last = sorted.map(\.monotonic.nanoseconds).max() ?? origin
        let span = max(last - origin, 1_000_000_000) + max((last - origin) / 50, 100_000_000)
        let end = origin + span

        var vipRecords: [IPAddress: [MachineTraceRecord]] = [:]
        var adapterRecords: [AdapterName: [MachineTraceRecord]] = [:]
        var unitRecords: [String: [MachineTraceRecord]] = [:]
        for record in sorted {
            switch record.subject {
            case .vip(let vip): vipRecords[vip, default: []].append(record)
            case .adapter(let name): adapterRecords[name, default: []].append(record)
            case .unit(let unit): unitRecords[unit, default: []].append(record)
            case .selector: break
            }
        }
        let vips = vipRecords.keys.sorted()
        let adapters = adapterRecords.keys.sorted()
        let units = unitRecords.keys.sorted { Self.unitOrder($0) < Self.unitOrder($1) }
        let milestones = Dictionary(grouping: OwnershipMilestone.derive(sorted), by: \.unit)
        var unitLanes: [String: [Bar]] = [:]
        for unit in units { unitLanes[unit] = Self.unitLane(unitRecords[unit] ?? [], end: end) }
        let owners = Set(unitLanes.values.joined().compactMap { $0.state == "none" ? nil : $0.state }).sorted()

        let top = owners.isEmpty ? 70.0 : 86.0
        let laneStep = laneHeight + laneGap
        let unitTop = top + Double(vips.count) * laneStep + (units.isEmpty || vips.isEmpty ? 0 : 14)
        let adapterTop = unitTop + Double(units.count) * laneStep + (adapters.isEmpty ? 0 : 14)
        let bottom = adapterTop + Double(adapters.count) * laneStep
        let width = labelWidth + plotWidth + 20
        let height = bottom + 30
        func x(_ at: Int64) -> Double { labelWidth + plotWidth * Double(at - origin) / Double(span) }

        var svg = SVGText()
        svg.open("svg", [
            ("xmlns", "http://www.w3.org/2000/svg"), ("width", Self.number(width)), ("height", Self.number(height)),
            ("viewBox", "0 0 \(Self.number(width)) \(Self.number(height))"), ("font-family", "monospace"), ("font-size", "11"),
        ])
        svg.element("title", [], text: title)
        svg.element("rect", [("x", "0"), ("y", "0"), ("width", Self.number(width)), ("height", Self.number(height)), ("fill", "#ffffff")])
        svg.element("text", [("x", "8"), ("y", "16"), ("font-size", "13"), ("font-weight", "bold")], text: title)
        legend(&svg, y: 32)
        if !owners.isEmpty { ownerLegend(&svg, owners: owners, y: 50) }

        // Time axis with ticks and vertical grid lines.
        svg.open("g", [("class", "axis")])
        let tick = Self.tickInterval(span)
        var t: Int64 = 0
        while t <= span {
            let px = x(origin + t)
            svg.element("line", [("x1", Self.number(px)), ("x2", Self.number(px)), ("y1", Self.number(top - 6)), ("y2", Self.number(bottom)),
                                 ("stroke", "#e0e0e0"), ("stroke-width", "1")])
            svg.element("text", [("x", Self.number(px)), ("y", Self.number(top - 9)), ("text-anchor", "middle")], text: Self.duration(t))
            t += tick
        }
        svg.close("g")

        for (index, vip) in vips.enumerated() {
            let y = top + Double(index) * laneStep
            let (bars, marks) = Self.vipLane(vipRecords[vip] ?? [], origin: origin, end: end)
            svg.open("g", [("class", "lane vip"), ("data-vip", vip.description)])
            svg.element("text", [("x", "8"), ("y", Self.number(y + laneHeight - 3))], text: vip.description)
            for bar in bars {
                let colour = Self.stateColours.first { $0.state == bar.state }?.colour ?? "#000000"
                svg.open("rect", [
                    ("class", "state \(bar.state)"), ("x", Self.number(x(bar.start))), ("y", Self.number(y)),
                    ("width", Self.number(max(x(bar.end) - x(bar.start), 1))), ("height", Self.number(laneHeight)), ("fill", colour),
                ])
                svg.element("title", [], text: "\(vip) \(bar.detail) at +\(Self.duration(bar.start - origin))")
                svg.close("rect")
            }
            for mark in marks {
                let px = x(mark.at)
                svg.open("path", [
                    ("class", "failover"), ("d", "M\(Self.number(px)) \(Self.number(y - 2)) l4 -4 h-8 z M\(Self.number(px - 1)) \(Self.number(y)) h2 v\(Self.number(laneHeight)) h-2 z"),
                    ("fill", "#000000"),
                ])
                svg.element("title", [], text: mark.title)
                svg.close("path")
            }
            svg.close("g")
        }

        for (index, unit) in units.enumerated() {
            let y = unitTop + Double(index) * laneStep
            svg.open("g", [("class", "lane unit"), ("data-unit", unit)])
            svg.element("text", [("x", "8"), ("y", Self.number(y + laneHeight - 3))], text: unit)
            for bar in unitLanes[unit] ?? [] {
                let fenced = bar.detail.hasPrefix("fenced")
                svg.open("rect", [
                    ("class", fenced ? "owner fenced" : "owner"), ("data-owner", bar.state), ("x", Self.number(x(bar.start))),
                    ("y", Self.number(y)), ("width", Self.number(max(x(bar.end) - x(bar.start), 1))),
                    ("height", Self.number(laneHeight)), ("fill", fenced ? "#d9534f" : Self.ownerColour(bar.state)),
                ])
                svg.element("title", [], text: "\(unit) owner \(bar.state): \(bar.detail) at +\(Self.duration(bar.start - origin))")
                svg.close("rect")
            }
            for milestone in milestones[unit] ?? [] {
                let px = x(milestone.at.nanoseconds)
                svg.open("path", [
                    ("class", "ownership"), ("data-kind", milestone.kind.rawValue),
                    ("d", "M\(Self.number(px)) \(Self.number(y - 2)) l4 -4 h-8 z"), ("fill", "#000000"),
                ])
                svg.element("title", [], text: "\(milestone) at +\(Self.duration(milestone.at.nanoseconds - origin))")
                svg.close("path")
            }
            svg.close("g")
        }

        for (index, adapter) in adapters.enumerated() {
            let y = adapterTop + Double(index) * laneStep
            let marks = Self.adapterMarks(adapterRecords[adapter] ?? [])
            svg.open("g", [("class", "lane adapter"), ("data-adapter", adapter.rawValue)])
            svg.element("text", [("x", "8"), ("y", Self.number(y + laneHeight - 3))], text: "adapter \(adapter.rawValue)")
            svg.element("line", [("x1", Self.number(labelWidth)), ("x2", Self.number(labelWidth + plotWidth)),
                                 ("y1", Self.number(y + laneHeight / 2)), ("y2", Self.number(y + laneHeight / 2)),
                                 ("stroke", "#bdbdbd"), ("stroke-width", "1")])
            for mark in marks {
                let px = x(mark.at)
                let up = mark.kind == "adapter-up"
                let d = up
                    ? "M\(Self.number(px)) \(Self.number(y)) l6 \(Self.number(laneHeight)) h-12 z"
                    : "M\(Self.number(px)) \(Self.number(y + laneHeight)) l6 -\(Self.number(laneHeight)) h-12 z"
                svg.open("path", [("class", mark.kind), ("d", d), ("fill", up ? "#2e7d32" : "#c62828")])
                svg.element("title", [], text: "\(adapter) \(mark.title) at +\(Self.duration(mark.at - origin))")
                svg.close("path")
            }
            svg.close("g")
        }
        svg.close("svg")
        return svg.text
    }

    private func legend(_ svg: inout SVGText, y: Double) {
        svg.open("g", [("class", "legend")])
        var x = 8.0
        for (state, colour) in Self.stateColours {
            svg.element("rect", [("x", Self.number(x)), ("y", Self.number(y - 9)), ("width", "12"), ("height", "10"), ("fill", colour)])
            svg.element("text", [("x", Self.number(x + 16)), ("y", Self.number(y))], text: state)
            x += 16 + Double(state.count) * 7 + 14
        }
        svg.element("path", [("d", "M\(Self.number(x + 4)) \(Self.number(y - 6)) l4 -4 h-8 z"), ("fill", "#000000")])
        svg.element("text", [("x", Self.number(x + 12)), ("y", Self.number(y))], text: "failover (agent change)")
        x += 12 + 23 * 7 + 14
        svg.element("path", [("d", "M\(Self.number(x + 4)) \(Self.number(y - 10)) l5 10 h-10 z"), ("fill", "#2e7d32")])
        svg.element("text", [("x", Self.number(x + 12)), ("y", Self.number(y))], text: "adapter up")
        x += 12 + 10 * 7 + 14
        svg.element("path", [("d", "M\(Self.number(x + 4)) \(Self.number(y)) l5 -10 h-10 z"), ("fill", "#c62828")])
        svg.element("text", [("x", Self.number(x + 12)), ("y", Self.number(y))], text: "adapter down")
        svg.close("g")
    }

    /// One swatch per owner host seen in the unit lanes (plus nobody and fenced).
    private func ownerLegend(_ svg: inout SVGText, owners: [String], y: Double) {
        svg.open("g", [("class", "legend owners")])
        svg.element("text", [("x", "8"), ("y", Self.number(y))], text: "owner:")
        var x = 56.0
        for (owner, colour) in owners.map({ ($0, Self.ownerColour($0)) }) + [("none", Self.ownerColour("none")), ("fenced", "#d9534f")] {
            svg.element("rect", [("x", Self.number(x)), ("y", Self.number(y - 9)), ("width", "12"), ("height", "10"), ("fill", colour)])
            svg.element("text", [("x", Self.number(x + 16)), ("y", Self.number(y))], text: owner)
            x += 16 + Double(owner.count) * 7 + 14
        }
        svg.close("g")
    }

    /// Colours for owner hosts: a host keeps its colour in every picture (FNV-1a of its name).
    static let ownerPalette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]

    /// The colour of `owner` (`none`: light grey).
    static func ownerColour(_ owner: String) -> String {
        guard owner != "none" else { return "#e0e0e0" }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in owner.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return ownerPalette[Int(hash % UInt64(ownerPalette.count))]
    }

    /// Units sort by address (then prefix), not as text.
    static func unitOrder(_ unit: String) -> (UInt32, Int, String) {
        let parts = unit.split(separator: "/")
        guard let address = parts.first.flatMap({ IPv4Address(String($0)) }) else { return (.max, 0, unit) }
        return (address.rawValue, parts.count > 1 ? Int(parts[1]) ?? 32 : 32, unit)
    }

    /// A unit's owner bars: one bar per span with one owner host (`state` holds the host, or
    /// `none`; `detail` the state text). Waiting and claiming have no owner yet (`none`).
    static func unitLane(_ records: [MachineTraceRecord], end: Int64) -> [Bar] {
        var bars: [Bar] = []
        for record in records {
            let at = record.monotonic.nanoseconds
            let owner = OwnershipStateText(record.to).owner ?? "none"
            let fenced = record.to.hasPrefix("fenced")
            if let current = bars.last, current.state == owner, current.detail.hasPrefix("fenced") == fenced {
                bars[bars.count - 1].detail = record.to
            } else {
                if !bars.isEmpty { bars[bars.count - 1].end = at }
                bars.append(Bar(state: owner, detail: record.to, start: at, end: end))
            }
        }
        return bars
    }

    // MARK: Trace interpretation

    /// The state name of a trace state text: `active(eth1 epoch 2 ...)` → `active`.
    static func stateName(_ text: String) -> String {
        String(text.prefix { $0 != "(" })
    }

    /// The agent in a VIP state text, for the states that hold one.
    static func agent(_ text: String) -> String? {
        let name = stateName(text)
        guard ["broadcast", "enqueued", "active"].contains(name), let open = text.firstIndex(of: "(") else { return nil }
        return text[text.index(after: open)...].split(separator: " ").first.map(String.init)
    }

    /// A VIP's bars and failover marks.
    static func vipLane(_ records: [MachineTraceRecord], origin: Int64, end: Int64) -> ([Bar], [Mark]) {
        var bars: [Bar] = []
        var marks: [Mark] = []
        var lastAgent: String?
        for record in records {
            let at = record.monotonic.nanoseconds
            let state = stateName(record.to)
            if let current = bars.last, current.state == state {
                bars[bars.count - 1].detail = record.to
            } else {
                if !bars.isEmpty { bars[bars.count - 1].end = at }
                bars.append(Bar(state: state, detail: record.to, start: at, end: end))
            }
            if let agent = agent(record.to) {
                if let lastAgent, lastAgent != agent {
                    marks.append(Mark(kind: "failover", at: at, title: "failover \(lastAgent) -> \(agent) at +\(duration(at - origin))"))
                }
                lastAgent = agent
            }
        }
        return (bars, marks)
    }

    /// An adapter's up (became eligible) and down (stopped being eligible) marks.
    static func adapterMarks(_ records: [MachineTraceRecord]) -> [Mark] {
        var marks: [Mark] = []
        var wasUp: Bool?
        for record in records {
            let up = stateName(record.to) == "eligible"
            if up != wasUp, wasUp != nil || up {
                marks.append(Mark(kind: up ? "adapter-up" : "adapter-down", at: record.monotonic.nanoseconds,
                                  title: "\(up ? "up" : "down"): \(record.to) after \(record.event.name)"))
            }
            wasUp = up
        }
        return marks
    }

    // MARK: Formatting

    /// 1, 2 or 5 times a power of ten, giving 5 to 12 ticks over `span` nanoseconds.
    static func tickInterval(_ span: Int64) -> Int64 {
        var step: Int64 = 1_000_000  // 1 ms
        while true {
            for factor: Int64 in [1, 2, 5] where span / (step * factor) <= 12 { return step * factor }
            step *= 10
        }
    }

    /// `850ms`, `1.2s`, `3m12s`.
    public static func duration(_ nanoseconds: Int64) -> String { DurationDisplay.text(nanoseconds: nanoseconds) }

    static func number(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}

/// An SVG document under construction: elements, attributes and escaped text.
struct SVGText {
    private(set) var text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    private var depth = 0

    /// `&`, `<`, `>`, `"` and `'` as entities.
    static func escape(_ value: String) -> String {
        var result = ""
        result.reserveCapacity(value.utf8.count)
        for character in value {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            default: result.append(character)
            }
        }
        return result
    }

    private func start(_ name: String, _ attributes: [(String, String)]) -> String {
        String(repeating: "  ", count: depth) + "<" + name
            + attributes.map { " \($0.0)=\"\(Self.escape($0.1))\"" }.joined()
    }

    mutating func open(_ name: String, _ attributes: [(String, String)]) {
        text += start(name, attributes) + ">\n"
        depth += 1
    }

    mutating func close(_ name: String) {
        depth -= 1
        text += String(repeating: "  ", count: depth) + "</\(name)>\n"
    }

    mutating func element(_ name: String, _ attributes: [(String, String)], text content: String? = nil) {
        if let content {
            text += start(name, attributes) + ">" + Self.escape(content) + "</\(name)>\n"
        } else {
            text += start(name, attributes) + "/>\n"
        }
    }
}
