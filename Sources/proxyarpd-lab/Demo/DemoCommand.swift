import ArgumentParser
import Foundation
import ProxyARPTestSupport

/// `proxyarpd-lab demo`: builds a throwaway namespace lab, runs the real daemon in it, and
/// shows activation, answers, a carrier-loss failover and a VIP's state trace. With
/// `--cluster`: three hosts in cluster mode over a real 3-member etcd, one owner killed,
/// and how long its VIPs took to be answered elsewhere. Touches nothing outside its own
/// namespaces and temporary directory; cleans up on Ctrl-C.
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

    /// The cluster demo instead.
    @Flag(help: "Three hosts in cluster mode over a real 3-member etcd: kill -9 one owner, time the takeover.")
    var cluster = false

    func run() async throws {
        guard getuid() == 0 else {
            throw ValidationError("the demo builds network namespaces: run it as root")
        }
        let binary = try Executables.daemon(daemon)
        if cluster {
            guard FileManager.default.isExecutableFile(atPath: EtcdLab.binary) else {
                throw ValidationError("the cluster demo needs etcd (Debian's etcd-server) at \(EtcdLab.binary)")
            }
            let directory = NSTemporaryDirectory() + "proxyarpd-cluster-demo-\(getpid())"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try await InterruptibleScript.run(directory: directory, keepFiles: false) {
                try await ClusterDemoScript(binary: binary).run()
            }
            return
        }
        let prefix = NetnsLab.uniquePrefix("pademo")
        let directory = NSTemporaryDirectory() + "proxyarpd-demo-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try await InterruptibleScript.run(directory: directory, keepFiles: keepFiles) {
            try await DemoScript(binary: binary, prefix: prefix, directory: directory).run()
        }
    }
}
