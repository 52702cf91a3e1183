import LibFuzzerDriver
import ProxyARPConfig

/// Fuzz target: arbitrary bytes as a proxyarpd YAML file. `ConfigurationLoader.load`
/// must return a configuration or throw errors that each carry a line of the file (1 up
/// to one past the last line); it must never trap.
@main
enum FuzzConfig {
    static func main() {
        LibFuzzer.run(fuzzConfig)
    }
}

/// libFuzzer's entry: one input, one configuration file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let yaml = FuzzInput.text(start, count)
    do {
        let configuration = try ConfigurationLoader.load(yaml: yaml, fileName: "fuzz.yaml")
        precondition(!configuration.adapters.isEmpty, "a configuration without adapters loaded")
        precondition(configuration.vips.count <= 1_000_000, "more than 1,000,000 VIPs loaded")
    } catch {
        // YAML breaks lines at LF, CR, CR LF, NEL, LS and PS: an upper bound of its lines.
        let lines = yaml.unicodeScalars.count(where: { "\n\r\u{85}\u{2028}\u{2029}".unicodeScalars.contains($0) }) + 1
        precondition(!error.errors.isEmpty, "an error without errors")
        for problem in error.errors {
            precondition((1...lines + 1).contains(problem.line), "error outside the file's lines: \(problem)")
            precondition(problem.fileName == "fuzz.yaml", "error names another file: \(problem)")
        }
    }
    return 0
}
