import ArgumentParser

/// `proxyarpd-lab`: what shows and measures proxyarpd, shipped apart from the daemon (as
/// swift-nio ships its examples and performance tester). The namespace labs run the
/// `proxyarpd` executable built next to this one.
@main
struct ProxyARPDLab: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxyarpd-lab",
        abstract: "Demo, benchmark and lab tools for proxyarpd (namespace labs need root).",
        subcommands: [
            DemoCommand.self, BenchCommand.self, BindBenchCommand.self, SoakCommand.self, MemoryProbeCommand.self, FloodCommand.self, InjectCommand.self,
            ClusterBenchCommand.self,
        ]
    )
}
