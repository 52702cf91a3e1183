import Foundation
import ProxyARPControl
import ProxyARPCore
import ProxyARPTestSupport
import Testing

/// Issue 11, failures 5 and 8, against the real daemon: the control socket under a low
/// descriptor limit and many idle clients, and the process hardening outside systemd
/// (with the bound on malloc arenas set at the same moment).
@Suite("End to end: a bounded control socket and a hardened process", .serialized, .enabled(if: endToEndEnabled))
struct ControlExhaustionTests {
    static func field(_ name: String, in status: String) -> String? {
        status.split(separator: "\n").first { $0.hasPrefix("\(name):") }
            .map { $0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces) }
    }

    @Test("outside systemd, as root: NoNewPrivs 1 and CapBnd 0x3000 for the process and every thread")
    func hardenedOutsideSystemd() async throws {
        try await DaemonLab.with("e2eh", vips: ["198.18.0.100"]) { daemon in
            _ = try await daemon.waitForAnswers(daemon.vips)
            let pid = try #require(daemon.daemon.processIdentifier)
            let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
            print("/proc/\(pid)/status: NoNewPrivs \(Self.field("NoNewPrivs", in: status) ?? "?"), CapBnd \(Self.field("CapBnd", in: status) ?? "?"), CapEff \(Self.field("CapEff", in: status) ?? "?")")
            #expect(Self.field("NoNewPrivs", in: status) == "1")
            #expect(Self.field("CapBnd", in: status) == "0000000000003000")
            for task in try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") {
                guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/status", encoding: .utf8) else { continue }
                #expect(Self.field("NoNewPrivs", in: text) == "1", "thread \(task)")
                #expect(Self.field("CapBnd", in: text) == "0000000000003000", "thread \(task)")
            }
            #expect(daemon.log.contains("process hardened"))
        }
    }

    /// glibc malloc arenas: 64 MiB-aligned anonymous reservations of 64 MiB in
    /// `/proc/PID/maps` (a `rw-p` part followed by its `---p` rest); the main arena (the
    /// `[heap]`) is not one of them.
    static func mallocArenaHeaps(pid: Int32) throws -> Int {
        let maps = try String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8).split(separator: "\n")
        let regions: [(start: UInt64, end: UInt64, permissions: Substring, anonymous: Bool)] = maps.compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            let bounds = fields[0].split(separator: "-")
            guard bounds.count == 2, let start = UInt64(bounds[0], radix: 16), let end = UInt64(bounds[1], radix: 16) else { return nil }
            return (start, end, fields[1], fields.count <= 5)
        }
        let heap: UInt64 = 64 << 20
        var count = 0
        for (index, region) in regions.enumerated() where region.anonymous && region.permissions == "rw-p" && region.start % heap == 0 {
            var end = region.end
            if index + 1 < regions.count, regions[index + 1].start == region.end, regions[index + 1].permissions == "---p",
                regions[index + 1].anonymous
            {
                end = regions[index + 1].end
            }
            if end - region.start == heap { count += 1 }
        }
        return count
    }

    @Test("malloc arenas bounded at start: every thread shares the main arena and at most one more")
    func mallocArenasBounded() async throws {
        try await DaemonLab.with("e2em", vips: ["198.18.0.100", "198.18.0.101", "198.18.1.100"]) { daemon in
            _ = try await daemon.waitForAnswers(daemon.vips)
            _ = try await daemon.dumpTrace()  // some allocation on the pool and the main thread
            let pid = try #require(daemon.daemon.processIdentifier)
            let threads = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task").count
            let arenas = try Self.mallocArenaHeaps(pid: pid)
            print("threads \(threads), malloc arena heaps besides the main one: \(arenas)")
            #expect(threads > 2, "several threads allocate")
            #expect(arenas <= 1)
            #expect(daemon.log.contains("malloc arenas bounded"))
        }
    }

    @Test("at a descriptor limit of 80 with 65 idle clients: status answers (bounded by timeout 5), SIGUSR1 dumps, the extra clients are told tooManyClients")
    func exhaustion() async throws {
        try await DaemonLab.with("e2ex", vips: ["198.18.0.100", "198.18.0.101"]) { daemon in
            _ = try await daemon.waitForAnswers(daemon.vips)
            let pid = try #require(daemon.daemon.processIdentifier)
            try await Command.run("prlimit", ["--pid", "\(pid)", "--nofile=80:80"])
            let descriptorsBefore = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count

            let idle = try (0..<65).map { _ in try ControlClient(path: daemon.socketPath) }
            try await Task.sleep(for: .milliseconds(500))
            var toldTooMany = 0
            for client in idle where client.waitReadable(milliseconds: 0) {
                if let line = client.readLine(), ControlCodec.reply(line)?.code == .tooManyClients { toldTooMany += 1 }
            }
            let descriptorsAfter = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
            print("descriptors: \(descriptorsBefore) before, \(descriptorsAfter) with 65 idle clients; \(toldTooMany) told tooManyClients")
            #expect(toldTooMany >= 65 - ControlLimits.standard.maximumClients)
            #expect(descriptorsAfter <= descriptorsBefore + ControlLimits.standard.maximumClients)

            let clock = ContinuousClock()
            let started = clock.now
            // Bounded: before the fix this hung for good (the test then failed instead of hanging).
            let status = try await Command.run("timeout", ["5", DaemonLab.binary, "status", "--socket", daemon.socketPath], check: false)
            let took = clock.now - started
            print("status with 65 idle clients took \(took)")
            #expect(status.succeeded, "\(status.output)")
            #expect(status.output.contains("198.18.0.100"))
            // Answered at all within `timeout 5` is the property (before the fix it hung for
            // good); how fast is printed, not asserted: 1.1 s once under a loaded suite.

            let stateDirectory = "\(daemon.directory)/state"
            daemon.daemon.send(SIGUSR1)
            var dumped = false
            for _ in 0..<50 where !dumped {
                try await Task.sleep(for: .milliseconds(100))
                dumped = ((try? FileManager.default.contentsOfDirectory(atPath: stateDirectory)) ?? []).contains { $0.hasPrefix("trace-") }
            }
            #expect(dumped, "SIGUSR1 still writes the trace dump")
            #expect(!daemon.log.contains("trace dump failed"))
            // The accept loop does not spin: the daemon's CPU time stays low over a second.
            let ticks = { () -> Int in
                let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
                let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
                return fields.count > 12 ? (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0) : 0
            }
            let before = ticks()
            try await Task.sleep(for: .seconds(1))
            #expect(ticks() - before < 30, "CPU ticks in one second: \(ticks() - before)")
            withExtendedLifetime(idle) {}
        }
    }
}
