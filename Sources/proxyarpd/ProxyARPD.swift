import ArgumentParser

/// The `proxyarpd` command: a root that only dispatches to its subcommands. The lab
/// commands (demo, bench, flood, inject, memory-probe) are `proxyarpd-lab`'s.
struct ProxyARPD: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxyarpd",
        abstract: "Answer ARP for virtual IPv4 addresses on behalf of the host's adapters.",
        subcommands: [RunCommand.self, CheckCommand.self, StatusCommand.self, TraceCommand.self, ReloadCommand.self]
    )
}
