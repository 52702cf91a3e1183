import Glibc

/// A thread or its wake signal could not be created.
public struct ThreadError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The thread's (or executor's) name.
    public let name: String
    /// The call that failed (`eventfd`, `pthread_create`).
    public let operation: String
    /// The `errno` or status code.
    public let code: Int32

    /// Creates an error.
    public init(name: String, operation: String, code: Int32) {
        self.name = name
        self.operation = operation
        self.code = code
    }

    /// `thread pio-eth0: pthread_create failed: Resource temporarily unavailable`.
    public var description: String { "thread \(name): \(operation) failed: \(String(cString: strerror(code)))" }
}
