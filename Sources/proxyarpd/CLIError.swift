import Foundation

/// Prints a message to standard error and exits 1.
enum CLIError {
    static func exit(_ message: String) -> Never {
        FileHandle.standardError.write(Data("proxyarpd: \(message)\n".utf8))
        Foundation.exit(1)
    }
}
