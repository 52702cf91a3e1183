import ArgumentParser
import ProxyARPDaemon

// The entry point of `proxyarpd`. The command runs in a detached task while the main
// thread (the thread-group leader) serves ``LeaderThread``: after the privilege
// drop it is the one thread that keeps CAP_NET_RAW and CAP_NET_ADMIN (see there why).
// Otherwise as `AsyncParsableCommand.main()`: errors print and exit as ArgumentParser does.
// Still one thread here: NoNewPrivs and the reduced bounding set reach every thread.
// So is the bound on malloc arenas (threads that join later share the arenas there).
if CommandLine.arguments.dropFirst().first == "run" {
    ProcessHardening.apply()
    MallocArenas.apply()
}
Task.detached {
    do {
        var command = try ProxyARPD.parseAsRoot()
        if var asyncCommand = command as? any AsyncParsableCommand {
            try await asyncCommand.run()
        } else {
            try command.run()
        }
    } catch {
        ProxyARPD.exit(withError: error)
    }
    ProxyARPD.exit()
}
LeaderThread.run()
