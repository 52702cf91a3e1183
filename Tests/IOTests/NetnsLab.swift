import Foundation
import Synchronization

/// The output and exit status of a command the tests ran.
struct CommandResult {
    var status: Int32
    var output: String
}

/// Runs `arguments` through `/usr/bin/env`, killing it (this process only, by its object)
/// if it outlives `timeout`. Standard error is merged into the output.
@discardableResult
func runCommand(_ arguments: [String], timeout: TimeInterval = 15) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    watchdog.cancel()
    return CommandResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
}

/// A command that must succeed.
struct CommandFailed: Error, CustomStringConvertible {
    var arguments: [String]
    var result: CommandResult
    var description: String { "\(arguments.joined(separator: " ")) exited \(result.status): \(result.output)" }
}

@discardableResult
func mustRun(_ arguments: [String]) throws -> String {
    let result = try runCommand(arguments)
    guard result.status == 0 else { throw CommandFailed(arguments: arguments, result: result) }
    return result.output
}

/// A lab of its own for one test: a client namespace `<prefix>c` holding a bridge `br0`
/// (198.18.77.1/24) and the peer ends of two veth pairs, whose other ends `<prefix>a` and
/// `<prefix>b` stay in the root namespace with no IPv4 address (and IPv6 disabled): the
/// two "host adapters" proxyarpd manages, sharing one segment.
///
/// Names carry `pio<pid><n>`; everything is removed by ``destroy()``.
final class NetnsLab: Sendable {
    private static let counter = Atomic<Int>(0)

    let prefix: String
    let namespace: String
    let adapterA: String
    let adapterB: String
    /// The client's address on the bridge.
    static let clientAddress = "198.18.77.1"

    init() throws {
        let number = Self.counter.wrappingAdd(1, ordering: .relaxed).newValue
        prefix = "pio\(getpid())\(number)"
        namespace = prefix + "c"
        adapterA = prefix + "a"
        adapterB = prefix + "b"
        destroy()  // leftovers of a crashed run with the same pid, if any
        do {
            try setUp()
        } catch {
            destroy()
            throw error
        }
    }

    private func setUp() throws {
        try mustRun(["ip", "netns", "add", namespace])
        for (adapter, peer) in [(adapterA, "pa"), (adapterB, "pb")] {
            try mustRun(["ip", "link", "add", adapter, "type", "veth", "peer", "name", prefix + peer, "netns", namespace])
            try mustRun(["ip", "-n", namespace, "link", "set", prefix + peer, "name", peer])
            try? "1\n".write(toFile: "/proc/sys/net/ipv6/conf/\(adapter)/disable_ipv6", atomically: false, encoding: .utf8)
        }
        try mustRun(["ip", "-n", namespace, "link", "add", "br0", "type", "bridge"])
        for peer in ["pa", "pb"] {
            try mustRun(["ip", "-n", namespace, "link", "set", peer, "master", "br0"])
        }
        try mustRun(["ip", "-n", namespace, "addr", "add", "\(Self.clientAddress)/24", "dev", "br0"])
        for device in ["lo", "pa", "pb", "br0"] {
            try mustRun(["ip", "-n", namespace, "link", "set", device, "up"])
        }
        try mustRun(["ip", "link", "set", adapterA, "up"])
        try mustRun(["ip", "link", "set", adapterB, "up"])
    }

    /// Runs `arguments` inside the client namespace.
    func inClient(_ arguments: [String], timeout: TimeInterval = 15) throws -> CommandResult {
        try runCommand(["ip", "netns", "exec", namespace] + arguments, timeout: timeout)
    }

    /// Deletes the root-namespace veth ends and the namespace (which takes the rest).
    /// Never throws; safe to call twice.
    func destroy() {
        _ = try? runCommand(["ip", "link", "del", adapterA])
        _ = try? runCommand(["ip", "link", "del", adapterB])
        _ = try? runCommand(["ip", "netns", "del", namespace])
    }
}

/// Builds a lab, runs `body`, and destroys the lab whatever happens.
func withLab<T>(_ body: (NetnsLab) async throws -> T) async throws -> T {
    let lab = try NetnsLab()
    do {
        let result = try await body(lab)
        lab.destroy()
        return result
    } catch {
        lab.destroy()
        throw error
    }
}
