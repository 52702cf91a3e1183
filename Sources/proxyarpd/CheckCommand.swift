import ArgumentParser
import Foundation
import ProxyARPConfig

/// `proxyarpd check --config FILE`: validates a configuration file without touching the system.
///
/// On success prints a one-line summary to standard output and exits 0; otherwise prints every
/// problem as `file:line: reason` on its own line to standard error and exits 1.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a configuration file and print a summary."
    )

    /// The file to check.
    @Option(name: .long, help: ArgumentHelp("The YAML configuration file.", valueName: "file"))
    var config: String = "/etc/proxyarpd/proxyarpd.yaml"

    /// Loads the file, then prints the summary or the errors.
    func run() throws {
        do {
            let configuration = try ConfigurationLoader.load(path: config)
            print("\(config): OK: \(configuration.summary)")
        } catch {
            let count = error.errors.count
            let text = error.description + "\n\(config): \(count) error\(count == 1 ? "" : "s")\n"
            FileHandle.standardError.write(Data(text.utf8))
            throw ExitCode(1)
        }
    }
}
