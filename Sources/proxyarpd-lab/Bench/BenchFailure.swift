/// The bench could not measure something (the daemon exited, the generator printed nothing).
struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

