import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import ProxyARPActors
import ProxyARPControl
import ProxyARPCore
import ProxyARPStateMachines
import ProxyARPTestSupport
import Testing

@Suite("End to end: the control socket and its CLI", .serialized, .enabled(if: endToEndEnabled))
struct ControlSocketTests {
    static let vips = ["198.18.0.100", "198.18.0.101", "198.18.0.102", "198.18.1.100"]

    /// `proxyarpd ARGS` run here (outside the namespace: the socket is a filesystem path).
    @discardableResult
    static func cli(_ arguments: [String], check: Bool = true) async throws -> Command.Result {
        try await Command.run("env", [DaemonLab.binary] + arguments, check: check)
    }

    /// Polls `status --json` until every VIP is active (bounded), returning the last report.
    static func statusWhenActive(_ daemon: DaemonLab, count: Int) async throws -> StatusReport {
        var last: StatusReport?
        for _ in 0..<40 {
            let result = try await cli(["status", "--socket", daemon.socketPath, "--json"], check: false)
            if result.succeeded, let report = try ControlCodec.decode(ControlReply.self, from: result.output.trimmingCharacters(in: .newlines)).status {
                last = report
                if report.engine.vips.count == count, report.engine.vips.allSatisfy({ $0.state == "active" }) { return report }
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw LabFailure("not every VIP became active: \(String(describing: last?.engine.vips.map { "\($0.vip) \($0.detail)" }))")
    }

    @Test("status, trace --vip (replays with 0 divergences), trace --follow, the timeline and reload, against the real daemon")
    func statusTraceFollowTimelineReload() async throws {
        try await DaemonLab.with("e2ec", vips: Self.vips) { daemon in
            _ = try await daemon.waitForAnswers(daemon.vips)

            // status --json: every VIP active, with agent, MAC and local address; adapters with counters.
            let report = try await Self.statusWhenActive(daemon, count: daemon.vips.count)
            for vip in report.engine.vips {
                let agent = try #require(vip.agent, "\(vip.vip) has an agent")
                let adapter = try #require(daemon.lab.adapter(agent.rawValue))
                #expect(vip.agentMAC == adapter.mac)
                #expect(vip.localAddress == adapter.address.address)
            }
            #expect(report.engine.adapters.count == daemon.lab.adapters.count)
            #expect(report.io.count == daemon.lab.adapters.count)
            #expect(report.io.map(\.repliesSent).reduce(0, +) >= UInt64(daemon.vips.count), "the arpings were answered")
            // Per VIP: every VIP that answered an arping has replies counted under its own address,
            // and the per-VIP counts add up to the per-adapter ones.
            let perVIP = try #require(report.repliesByVIP)
            for vip in daemon.vips { #expect((perVIP[vip.description] ?? 0) >= 1, "replies for \(vip): \(perVIP)") }
            #expect(perVIP.values.reduce(0, +) == report.io.map(\.repliesSent).reduce(0, +))
            let table = try await Self.cli(["status", "--socket", daemon.socketPath]).output
            #expect(table.contains("VIP") && table.contains("REQUESTS SEEN"))
            for vip in daemon.vips { #expect(table.contains(vip.description)) }
            print("proxyarpd status:\n\(table)")

            // trace --vip: only that VIP's records, and they replay with no divergence.
            let watched = daemon.vips[0]
            let traced = try await Self.cli(["trace", "--socket", daemon.socketPath, "--vip", watched.description]).output
            let records = try traced.split(separator: "\n").map { try ControlCodec.decode(MachineTraceRecord.self, from: $0) }
            #expect(records.count >= 4, "creation, selection, broadcast, activation")
            #expect(records.allSatisfy { $0.subject == .vip(watched) })
            let replay = TraceReplay.replay(records)
            #expect(replay.replayed == records.count)
            #expect(replay.divergences.isEmpty, "\(replay.divergences)")

            // trace --follow receives a record produced after it started: the agent's carrier loss.
            let victim = try #require(report.engine.vips.first { $0.vip == watched }?.agent?.rawValue)
            let followLog = "\(daemon.directory)/follow.jsonl"
            let follower = try LabProcess(
                binary: DaemonLab.binary, namespace: daemon.lab.host,
                arguments: ["trace", "--socket", daemon.socketPath, "--adapter", victim, "--follow"], logPath: followLog
            )
            try await Task.sleep(for: .milliseconds(700))
            let before = (try? String(contentsOfFile: followLog, encoding: .utf8)) ?? ""
            #expect(!before.isEmpty, "the records held at start are streamed first")
            #expect(!before.contains("down(noCarrier)"))
            try await daemon.lab.cutCarrier(victim)
            var followed: [MachineTraceRecord] = []
            for _ in 0..<40 {
                try await Task.sleep(for: .milliseconds(100))
                let text = (try? String(contentsOfFile: followLog, encoding: .utf8)) ?? ""
                followed = text.split(separator: "\n").compactMap { try? ControlCodec.decode(MachineTraceRecord.self, from: $0) }
                if followed.contains(where: { $0.to.hasPrefix("down(noCarrier)") }) { break }
            }
            #expect(follower.isRunning, "--follow keeps streaming")
            await follower.stop()
            #expect(followed.contains { $0.to.hasPrefix("down(noCarrier)") }, "follow saw the carrier loss: \(followed.map(\.to))")
            #expect(followed.allSatisfy { $0.subject == .adapter(AdapterName(victim)) })
            _ = try await Self.statusWhenActive(daemon, count: daemon.vips.count)

            // The timeline of the real run: an SVG with one lane per VIP and the failover marked.
            let svgPath = "\(daemon.directory)/timeline.svg"
            try await Self.cli(["trace", "--socket", daemon.socketPath, "--timeline", svgPath])
            let svg = try SVGElements.parse(try String(contentsOfFile: svgPath, encoding: .utf8))
            #expect(svg.first?.name == "svg")
            let lanes = svg.filter { $0.attributes["class"] == "lane vip" }.compactMap { $0.attributes["data-vip"] }
            #expect(lanes.sorted() == daemon.vips.map(\.description).sorted())
            #expect(svg.contains { $0.attributes["class"] == "failover" })
            #expect(svg.contains { $0.attributes["class"] == "adapter-down" })
            // ...and from a saved dump.
            let dumpPath = "\(daemon.directory)/dump.jsonl"
            try await Self.cli(["trace", "--socket", daemon.socketPath]).output.write(toFile: dumpPath, atomically: true, encoding: .utf8)
            try await Self.cli(["trace", "--timeline", "\(svgPath).2.svg", "--from-file", dumpPath])
            #expect(try SVGElements.parse(try String(contentsOfFile: "\(svgPath).2.svg", encoding: .utf8))
                .filter { $0.attributes["class"] == "lane vip" }.count == daemon.vips.count)
            #expect(try await Self.cli(["trace", "replay", dumpPath]).output.contains("0 divergences"))

            // reload over the socket applies a changed file; a broken file is refused with its errors.
            let added = IPv4Address("198.18.0.103")!
            try daemon.lab.configurationYAML(vips: Self.vips + [added.description], directory: daemon.directory)
                .write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
            let reload = try await Self.cli(["reload", "--socket", daemon.socketPath, "--json"])
            let summary = try ControlCodec.decode(ControlReply.self, from: reload.output.trimmingCharacters(in: .newlines))
            #expect(summary.reload == ReloadSummary(added: 1, removed: 0, changed: 0))
            let after = try await Self.statusWhenActive(daemon, count: daemon.vips.count + 1)
            #expect(after.engine.vips.contains { $0.vip == added })
            try "vips: [".write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
            let refused = try await Self.cli(["reload", "--socket", daemon.socketPath], check: false)
            #expect(!refused.succeeded)
            #expect(refused.error.contains("reload refused"), "\(refused.error)")
            #expect(try await Self.statusWhenActive(daemon, count: daemon.vips.count + 1).engine.vips.count == 5)
        }
    }

    @Test("access: a group member connects; a non-member is kept out by the socket's mode and, past it, by SO_PEERCRED")
    func access() async throws {
        try await DaemonLab.with("e2ep", vips: ["198.18.0.100"], controlGroup: "daemon") { daemon in
            var info = stat()
            for _ in 0..<50 where stat(daemon.socketPath, &info) != 0 { try await Task.sleep(for: .milliseconds(100)) }
            #expect(info.st_mode & S_IFMT == S_IFSOCK)
            #expect(info.st_mode & 0o777 == 0o660)
            #expect(info.st_uid == 0)
            #expect(info.st_gid == 1, "group daemon")
            var directory = stat()
            #expect(stat(daemon.directory, &directory) == 0 && directory.st_mode & 0o005 == 0o005, "the directory is traversable")

            func asUser(gid: Int, in namespace: Bool) async throws -> Command.Result {
                let command = ["setpriv", "--reuid=65534", "--regid=\(gid)", "--clear-groups", DaemonLab.binary, "status", "--socket", daemon.socketPath]
                if namespace {
                    return try await daemon.lab.lab.exec(daemon.lab.host, command[0], Array(command.dropFirst()), check: false)
                }
                return try await Command.run(command[0], Array(command.dropFirst()), check: false)
            }
            // Member by its gid: allowed (from inside the namespace too).
            let member = try await asUser(gid: 1, in: true)
            #expect(member.succeeded, "\(member.error)")
            #expect(member.output.contains("198.18.0.100"))
            // Non-member: the 0660 mode refuses the connect.
            let byMode = try await asUser(gid: 65534, in: true)
            #expect(!byMode.succeeded)
            #expect(byMode.error.lowercased().contains("permission denied"), "\(byMode.error)")
            // With the mode opened up, the daemon's peer check still refuses.
            #expect(chmod(daemon.socketPath, 0o666) == 0)
            let byPeer = try await asUser(gid: 65534, in: false)
            #expect(!byPeer.succeeded)
            #expect(byPeer.error.contains("refused"), "\(byPeer.error)")
            #expect(daemon.log.contains("control connection refused"))
            // Root is always allowed.
            #expect(try await Self.cli(["status", "--socket", daemon.socketPath]).succeeded)
        }
    }
}

/// The elements of an XML document, in order, with their attributes.
final class SVGElements: NSObject, XMLParserDelegate {
    private var elements: [(name: String, attributes: [String: String])] = []

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        elements.append((name, attributes))
    }

    static func parse(_ text: String) throws -> [(name: String, attributes: [String: String])] {
        let collector = SVGElements()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = collector
        guard parser.parse() else { throw parser.parserError ?? LabFailure("not XML") }
        return collector.elements
    }
}
