import ArgumentParser
import Foundation
import ProxyARPTestSupport

/// `proxyarpd-lab demo`: builds a throwaway namespace lab, runs the real daemon in it, and
/// shows activation, answers, a carrier-loss failover and a VIP's state trace. Touches
/// nothing outside its own namespaces and temporary directory; cleans up on Ctrl-C.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Show proxyarpd working in a throwaway network-namespace lab (needs root)."
    )

    /// The daemon to run.
    @Option(help: "The proxyarpd executable to run (default: the one next to this executable).")
    var daemon: String?

    /// Keep the lab's files (config, logs, captures, trace) afterwards.
    @Flag(help: "Keep the temporary directory with the config, daemon log, capture and trace.")
    var keepFiles = false

    func run() async throws {
        guard getuid() == 0 else {
            throw ValidationError("the demo builds network namespaces: run it as root")
        }
        let binary = try Executables.daemon(daemon)
        let prefix = NetnsLab.uniquePrefix("pademo")
        let directory = NSTemporaryDirectory() + "proxyarpd-demo-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try await InterruptibleScript.run(directory: directory, keepFiles: keepFiles) {
            try await DemoScript(binary: binary, prefix: prefix, directory: directory).run()
        }
    }
}
