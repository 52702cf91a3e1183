import Foundation
import Logging
import ProxyARPCore
import ProxyARPIO
import ServiceLifecycle

/// Keeps the `tc` ingress rule of ``ARPRequestDropProgram`` on every managed adapter in
/// step with the answer table: plain ARP requests for the active VIPs (every proxy list's)
/// are dropped after the daemon's packet tap saw them, before the kernel's ARP code.
///
/// Follows the table like the capture filter: ``quietPeriod`` after the last publication
/// the rule is replaced in place (atomically). A VIP that is briefly in the rule while
/// no longer active loses nothing (the kernel answers no VIP; arp_ignore), and one not
/// yet in it is answered by the daemon anyway: the rule only saves the kernel's work.
/// Removed at shutdown. Runs its netlink work on a thread of its own; needs root's
/// CAP_NET_ADMIN and CAP_BPF, so it is off when the daemon drops privileges
/// (`daemon.user`). On by default as root (`io.arp_guard`); README, Performance, has what
/// it saves.
struct ARPRequestGuardService: Service {
    let publisher: AnswerTablePublisher
    let adapters: [AdapterName]
    let logger: Logger
    /// How long the table must stay unchanged before the rule is rewritten.
    var quietPeriod: Duration = .milliseconds(200)

    func run() async throws {
        let (changes, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let token = publisher.addObserver { continuation.yield() }
        defer { publisher.removeObserver(token) }
        var installed: [ClosedRange<UInt32>]? = nil
        var failed = false
        await withGracefulShutdownHandler {
            for await _ in changes {
                // Wait until the table is quiet (no publication for a quiet period), at most
                // 5 s: while 100,000 VIPs activate it changes many times a second.
                var seen = publisher.currentGeneration
                for _ in 0..<25 {
                    try? await Task.sleep(for: quietPeriod)
                    let now = publisher.currentGeneration
                    if now == seen { break }
                    seen = now
                }
                guard !Task.isCancelled else { break }
                let table = publisher.current
                var active = AddressSet()
                for list in table.proxyLists.values { for vip in list.vips.elements { active.insert(vip) } }
                let ranges = CaptureFilterProgram.ranges(of: active)
                guard ranges != installed, let program = ARPRequestDropProgram(ranges: ranges) else { continue }
                // No active VIP: no rule (a program without ranges would end in unreachable code).
                let outcome = await apply { socket, name throws(NetlinkError) in
                    if program.ranges.isEmpty {
                        try ARPRequestGuard.remove(interfaceNamed: name, socket: &socket)
                    } else {
                        try ARPRequestGuard.install(program, interfaceNamed: name, socket: &socket)
                    }
                }
                if let error = outcome {
                    if !failed { logger.warning("tc ARP guard: could not install, the kernel keeps seeing VIP requests", metadata: ["error": "\(error)"]) }
                    failed = true
                } else {
                    installed = ranges
                    logger.info(ranges.isEmpty ? "tc ARP guard removed (no active VIP)" : "tc ARP guard installed",
                                metadata: ["ranges": "\(ranges.count)", "instructions": "\(program.instructions.count)"])
                }
            }
        } onGracefulShutdown: {
            continuation.finish()
        }
        if installed != nil || failed {
            if let error = await apply({ socket, name throws(NetlinkError) in try ARPRequestGuard.remove(interfaceNamed: name, socket: &socket) }) {
                logger.warning("tc ARP guard: could not remove", metadata: ["error": "\(error)"])
            } else {
                logger.info("tc ARP guard removed", metadata: ["adapters": "\(adapters.count)"])
            }
        }
    }

    /// Runs `body` for every adapter on a thread of its own with one netlink socket; the
    /// first error (the other adapters are still tried).
    private func apply(
        _ body: @escaping @Sendable (inout NetlinkSocket, String) throws(NetlinkError) -> Void
    ) async -> NetlinkError? {
        let names = adapters.map(\.rawValue)
        do throws(ThreadError) {
            return try await PlatformThread.run(name: "tc-guard") { () -> NetlinkError? in
            do throws(NetlinkError) {
                var socket = try NetlinkSocket()
                var first: NetlinkError?
                for name in names {
                    do throws(NetlinkError) { try body(&socket, name) } catch { first = first ?? error }
                }
                return first
            } catch {
                return error
            }
            }
        } catch {
            return NetlinkError(operation: "tc-guard thread: \(error)", code: EAGAIN)
        }
    }
}
