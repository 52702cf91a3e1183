import ArgumentParser
import Foundation

/// Where the lab finds the programs it starts.
enum Executables {
    /// This executable (`proxyarpd-lab`): the bench runs its `flood` in the client namespace.
    static func lab() throws -> String {
        try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    }

    /// The daemon to run: `given`, or the `proxyarpd` built next to this executable
    /// (`swift build` puts both in the same directory).
    static func daemon(_ given: String?) throws -> String {
        let path = try given ?? URL(fileURLWithPath: lab()).deletingLastPathComponent().appendingPathComponent("proxyarpd").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw ValidationError("no daemon executable at \(path): build it (swift build --product proxyarpd) or pass --daemon PATH")
        }
        return path
    }
}
