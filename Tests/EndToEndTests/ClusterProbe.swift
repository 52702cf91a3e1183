import Foundation
import ProxyARPCore
import ProxyARPTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The daemons a cluster test started, by host index; all killed by ``ClusterEndToEndTests/withLab(hosts:members:tls:_:)``.
final class ClusterDaemons {
    let lab: ClusterLab
    private(set) var byHost: [Int: LabProcess] = [:]
    /// Captures, requesters and pings the test started.
    var helpers: [LabProcess] = []

    init(lab: ClusterLab) { self.lab = lab }

    /// Starts host `index`'s daemon (see ``ClusterLab/startDaemon(_:binary:vips:leaseTTL:extraCluster:extraEtcd:metricsPort:extra:)``).
    /// `rebalanceAfter` is its `cluster.rebalance_after` (nil: the daemon's default, 3 s). It
    /// is `off` unless a test asks: the tests that are not about rebalancing measure owners
    /// that must not move under them when hosts start together or rejoin.
    @discardableResult
    func start(
        _ index: Int, vips: [String], leaseTTL: String = "1s", extraCluster: String = "", extraEtcd: String = "", metricsPort: Int = 0,
        rebalanceAfter: String? = "off"
    ) throws -> LabProcess {
        let rebalance = rebalanceAfter.map { "  rebalance_after: \($0)" }
        let cluster = [extraCluster, rebalance ?? ""].filter { !$0.isEmpty }.joined(separator: "\n")
        let process = try lab.startDaemon(
            index, binary: DaemonLab.binary, vips: vips, leaseTTL: leaseTTL, extraCluster: cluster, extraEtcd: extraEtcd,
            metricsPort: metricsPort)
        byHost[index] = process
        return process
    }

    subscript(index: Int) -> LabProcess { byHost[index]! }

    /// Host `index`'s log so far.
    func log(_ index: Int) -> String {
        (try? String(contentsOfFile: "\(lab.directory)/h\(index).log", encoding: .utf8)) ?? ""
    }

    var all: [LabProcess] { Array(byHost.values) + helpers }
}

extension ClusterEndToEndTests {
    /// Builds a cluster lab, runs `body`, and always kills what it started (by PID) and removes
    /// the lab. With `PROXYARPD_CLUSTER_LOGS=<dir>` the lab's logs and captures are copied there first.
    static func withLab<T>(
        _ name: String, hosts: Int, members: Int = 3, tls: Bool = false, _ body: (ClusterLab, ClusterDaemons) async throws -> T
    ) async throws -> T {
        let lab = try await ClusterLab.build(hosts: hosts, members: members, tls: tls)
        let daemons = ClusterDaemons(lab: lab)
        func finish() async {
            for helper in daemons.helpers where helper.isRunning { helper.send(SIGKILL) }
            if let keep = ProcessInfo.processInfo.environment["PROXYARPD_CLUSTER_LOGS"] {
                let target = "\(keep)/\(name)"
                try? FileManager.default.removeItem(atPath: target)
                try? FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
                try? FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
                for file in (try? FileManager.default.contentsOfDirectory(atPath: lab.directory)) ?? [] where file.hasSuffix(".log") || file.hasSuffix(".txt") {
                    try? FileManager.default.copyItem(atPath: "\(lab.directory)/\(file)", toPath: "\(target)/\(file)")
                }
            }
            await lab.destroy(daemons: daemons.all)
        }
        do {
            let result = try await body(lab, daemons)
            await finish()
            return result
        } catch {
            for index in daemons.byHost.keys.sorted() { Issue.record("host \(index) log:\n\(daemons.log(index).suffix(3000))") }
            await finish()
            throw error
        }
    }

    /// The host answering each VIP (one broadcast request each, all VIPs at once, up to 1 s
    /// for a reply); records an issue when a VIP has two MACs. Duplicates within 10 ms are
    /// the captures' job (``ClientARPLog/duplicates(_:window:)``).
    static func quickOwners(_ lab: ClusterLab, vips: [String]) async throws -> [String: Int] {
        try await withThrowingTaskGroup(of: (String, [MACAddress]).self) { group in
            for vip in vips {
                group.addTask {
                    let result = try await lab.etcd.lab.exec(
                        lab.client, "arping", ["-b", "-c", "1", "-w", "1", "-I", lab.clientDevice, vip], check: false)
                    return (vip, HostLab.replyMACs(in: result.output))
                }
            }
            var owners: [String: Int] = [:]
            for try await (vip, macs) in group {
                let distinct = Set(macs)
                #expect(distinct.count <= 1, "\(vip) answered by \(distinct)")
                if distinct.count == 1, let host = ClusterLab.host(owning: distinct.first!) { owners[vip] = host }
            }
            return owners
        }
    }

    /// Polls until every VIP has one owner, none in `excluded` (at most `seconds`).
    static func settledOwners(_ lab: ClusterLab, vips: [String], excluding excluded: Set<Int> = [], seconds: Int = 20) async throws -> [String: Int] {
        let start = ContinuousClock.now
        var owners: [String: Int] = [:]
        while ContinuousClock.now - start < .seconds(seconds) {
            owners = try await quickOwners(lab, vips: vips)
            if owners.count == vips.count, owners.values.allSatisfy({ !excluded.contains($0) }) { return owners }
            try await Task.sleep(for: .milliseconds(100))
        }
        return owners
    }

    /// Seconds since the epoch (tcpdump `-tt` and `ping -D` use the same clock).
    static var wallClock: Double { Date().timeIntervalSince1970 }

    /// The one-minute load average, for the measurements printed.
    static var loadAverage: String {
        LoadAverage.text()
    }

    /// Prints a measurement line (collected into the closing notes).
    static func report(_ test: String, _ text: String) {
        print("cluster-measure [\(test)] \(text) (load \(loadAverage))")
    }

    /// Sums a metric's samples in a Prometheus text page, e.g. `proxyarpd_cluster_fence_events_total`.
    static func metric(_ text: String, _ name: String) -> Double {
        text.split(separator: "\n").filter { $0.hasPrefix(name) && !$0.hasPrefix("#") }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
    }

    /// The `status` object of `proxyarpd status --json` of host `index` (nil when it did not answer).
    static func status(_ lab: ClusterLab, host index: Int) async throws -> [String: Any]? {
        let result = try await Command.run("timeout", ["5", DaemonLab.binary, "status", "--socket", lab.socketPath(host: index), "--json"], check: false)
        guard let data = result.output.data(using: .utf8), let reply = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            return nil
        }
        return reply["status"] as? [String: Any]
    }
}

/// What the client saw on its link while a cluster test disturbed the cluster: broadcast
/// ARP requests for each VIP every 50 ms (`proxyarpd-lab flood` at 20/s: iputils `arping`
/// cannot ask more often than once a second), and a `tcpdump -tt -e -n` of every ARP frame
/// on the client's switch port.
struct ClusterProbe {
    let capture: LabProcess
    let arpings: [LabProcess]
    let path: String

    /// Starts the capture, then the requesters (each ends by itself after `seconds`).
    static func start(_ lab: ClusterLab, daemons: ClusterDaemons, vips: [String], name: String, seconds: Int = 60) async throws -> ClusterProbe {
        let path = "\(lab.directory)/\(name).txt"
        // On the client's switch port, not on the client: the requester sends with
        // PACKET_QDISC_BYPASS, which a capture on the sending interface never sees.
        let capture = try LabProcess(
            binary: "/usr/bin/tcpdump", namespace: lab.fabric,
            arguments: ["-i", "s-\(lab.clientDevice)", "-n", "-tt", "-e", "-l", "--immediate-mode", "arp"], logPath: path)
        daemons.helpers.append(capture)
        for _ in 0..<40 {
            try await Task.sleep(for: .milliseconds(50))
            if let text = try? String(contentsOfFile: path, encoding: .utf8), text.contains("listening on") { break }
        }
        // `link/ether MAC brd ...`: the client's MAC, the requests' sender.
        let link = try await lab.etcd.lab.ip(lab.client, "-o", "link", "show", "dev", lab.clientDevice).output.split(separator: " ")
        let mac = try #require(link.firstIndex(of: "link/ether").map { String(link[$0 + 1]) })
        var arpings: [LabProcess] = []
        for (index, vip) in vips.enumerated() {
            let arping = try LabProcess(
                binary: DaemonLab.labBinary, namespace: lab.client,
                arguments: ["flood", "--interface", lab.clientDevice, "--target", vip, "--source-mac", mac, "--source-ip", "198.18.0.1",
                            "--rate", "20", "--seconds", "\(seconds)", "--batch", "1", "--cpu=-1", "--tail-milliseconds", "0"],
                logPath: "\(lab.directory)/\(name)-requester\(index).log")
            daemons.helpers.append(arping)
            arpings.append(arping)
        }
        try await Task.sleep(for: .milliseconds(300))
        return ClusterProbe(capture: capture, arpings: arpings, path: path)
    }

    /// Stops the requesters, then the capture, and parses what it saw.
    func stop() async -> ClientARPLog {
        for arping in arpings { await arping.stop(timeout: .seconds(2)) }
        try? await Task.sleep(for: .milliseconds(200))
        await capture.stop(timeout: .seconds(2))
        return ClientARPLog(text: (try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
    }
}

/// ARP frames from a client `tcpdump -tt -e -n` text capture.
struct ClientARPLog {
    /// One ARP frame about a VIP.
    struct Frame {
        enum Kind { case request, reply, announcement }
        var time: Double
        var source: MACAddress
        var kind: Kind
        var vip: String
    }

    var frames: [Frame] = []

    init(text: String) {
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count > 8, let time = Double(words[0]), let source = MACAddress(String(words[1])),
                let colon = words.firstIndex(where: { $0.hasSuffix(":") && $0 != words[0] }), colon + 2 < words.count
            else { continue }
            let rest = Array(words[(colon + 1)...])
            // `Request who-has VIP [(target MAC)] tell SENDER, length 28`
            if rest.count >= 5, rest[0] == "Request", rest[1] == "who-has", let tell = rest.firstIndex(of: "tell"), tell + 1 < rest.count {
                let target = String(rest[2])
                let sender = String(rest[tell + 1].trimmingCharacters(in: CharacterSet(charactersIn: ",")))
                frames.append(Frame(time: time, source: source, kind: sender == target ? .announcement : .request, vip: target))
            } else if rest.count >= 3, rest[0] == "Reply" {
                frames.append(Frame(time: time, source: source, kind: .reply, vip: String(rest[1])))
            }
        }
    }

    /// Frames from a host (a reply or an announcement) saying it has `vip`, in time order.
    func answers(_ vip: String) -> [Frame] {
        frames.filter { $0.vip == vip && $0.kind != .request && ClusterLab.host(owning: $0.source) != nil }
    }

    /// The client's requests for `vip`.
    func requests(_ vip: String) -> [Frame] { frames.filter { $0.vip == vip && $0.kind == .request } }

    /// The longest time in [`from`, `to`] without an answer for `vip` (ms), edges included.
    func maxGap(_ vip: String, from: Double, to: Double) -> Double {
        let times = [from] + answers(vip).map(\.time).filter { $0 > from && $0 < to } + [to]
        return zip(times, times.dropFirst()).map { ($1 - $0) * 1000 }.max() ?? 0
    }

    /// Requests for `vip` in [`from`, `to`] that no host answered within `within` seconds.
    func unanswered(_ vip: String, from: Double, to: Double, within: Double = 0.5) -> Int {
        let answerTimes = answers(vip).filter { $0.kind == .reply }.map(\.time)
        return requests(vip).filter { $0.time >= from && $0.time <= to }.filter { request in
            !answerTimes.contains { $0 >= request.time && $0 <= request.time + within }
        }.count
    }

    /// Pairs of answers for `vip` from two different hosts less than `window` seconds apart.
    func duplicates(_ vip: String, window: Double = 0.010) -> [(Double, MACAddress, MACAddress)] {
        let list = answers(vip)
        var found: [(Double, MACAddress, MACAddress)] = []
        for (index, frame) in list.enumerated() {
            for later in list[(index + 1)...] {
                if later.time - frame.time >= window { break }
                if ClusterLab.host(owning: later.source) != ClusterLab.host(owning: frame.source) {
                    found.append((frame.time, frame.source, later.source))
                }
            }
        }
        return found
    }

    /// The hosts that answered for `vip` in [`from`, `to`].
    func answeringHosts(_ vip: String, from: Double = 0, to: Double = .infinity) -> Set<Int> {
        Set(answers(vip).filter { $0.time >= from && $0.time <= to }.compactMap { ClusterLab.host(owning: $0.source) })
    }

    /// The first announcement for `vip` after `time` from a host for which `host` holds.
    func firstAnnouncement(_ vip: String, after time: Double, host: (Int) -> Bool) -> Double? {
        answers(vip).first { $0.kind == .announcement && $0.time > time && ClusterLab.host(owning: $0.source).map(host) == true }?.time
    }

    /// The last answer for `vip` from `host`, if any.
    func lastAnswer(_ vip: String, host: Int) -> Double? {
        answers(vip).last { ClusterLab.host(owning: $0.source) == host }?.time
    }
}

/// A `ping -D -i 0.01` from the client to a VIP, stopped with SIGINT (so it prints its summary).
struct PingProbe {
    let process: LabProcess

    static func start(_ lab: ClusterLab, daemons: ClusterDaemons, vip: String, name: String, seconds: Int = 60) throws -> PingProbe {
        let process = try LabProcess(
            binary: "/usr/bin/ping", namespace: lab.client,
            arguments: ["-D", "-n", "-i", "0.01", "-w", "\(seconds)", vip], logPath: "\(lab.directory)/\(name).txt")
        daemons.helpers.append(process)
        return PingProbe(process: process)
    }

    /// Stops the ping and parses its output.
    func stop() async -> PingLog {
        process.send(SIGINT)
        // Let it print its summary before stop() sends SIGTERM (bounded).
        for _ in 0..<100 where process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        await process.stop(timeout: .seconds(3))
        return PingLog(text: (try? String(contentsOfFile: process.logPath, encoding: .utf8)) ?? "")
    }
}

/// `ping -D` output: the replies' times and sequence numbers, and the summary.
struct PingLog {
    var replies: [(time: Double, sequence: Int)] = []
    var duplicates = 0
    var transmitted = 0
    var received = 0

    init(text: String) {
        for line in text.split(separator: "\n") {
            if line.hasPrefix("["), let close = line.firstIndex(of: "]"), let time = Double(line[line.index(after: line.startIndex)..<close]),
                let sequenceField = line.split(separator: " ").first(where: { $0.hasPrefix("icmp_seq=") }),
                let sequence = Int(sequenceField.dropFirst("icmp_seq=".count)) {
                if line.contains("DUP!") { duplicates += 1 } else { replies.append((time: time, sequence: sequence)) }
            } else if line.contains("packets transmitted") {
                let numbers = line.split(separator: " ").compactMap { Int($0) }
                if numbers.count >= 2 { (transmitted, received) = (numbers[0], numbers[1]) }
            }
        }
    }

    /// Over the replies in [`from`, `to`] and the ones just outside: (requests lost by
    /// sequence number, the longest time between two replies in ms).
    func loss(from: Double, to: Double) -> (packets: Int, milliseconds: Double) {
        let first = replies.lastIndex { $0.time < from } ?? 0
        let last = replies.firstIndex { $0.time > to } ?? max(0, replies.count - 1)
        guard first < last else { return (0, 0) }
        let window = replies[first...last]
        var lost = 0
        var gap = 0.0
        for (before, after) in zip(window, window.dropFirst()) {
            lost += max(0, after.sequence - before.sequence - 1)
            gap = max(gap, (after.time - before.time) * 1000)
        }
        return (lost, gap)
    }
}
