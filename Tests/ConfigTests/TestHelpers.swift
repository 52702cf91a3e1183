import Foundation
import ProxyARPConfig
import ProxyARPCore
import Testing

/// The package root, found from this file's path (Tests/ConfigTests/TestHelpers.swift).
let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Loads `yaml` and returns the errors it must produce; records a failure when it loads.
func loadErrors(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> [ConfigurationError] {
    do {
        let configuration = try ConfigurationLoader.load(yaml: yaml, fileName: "test.yaml")
        Issue.record("expected errors, but the file loaded with \(configuration.vips.count) VIPs", sourceLocation: sourceLocation)
        return []
    } catch {
        return error.errors
    }
}

/// Shorthand for an IPv4 literal in tests.
func ip(_ text: String) -> IPv4Address {
    IPv4Address(text)!
}
