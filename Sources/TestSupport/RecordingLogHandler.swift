import Logging
import Synchronization

/// A swift-log handler that keeps every line logged through it, for tests that assert
/// what a component logs (and, with `annotate`, what held when it logged it).
public struct RecordingLogHandler: LogHandler {
    /// A logged line.
    public struct Line: Sendable {
        /// The line's level.
        public var level: Logger.Level
        /// The message, as rendered.
        public var message: String
        /// The line's own metadata, rendered (the handler's metadata is left out).
        public var metadata: [String: String]
        /// What `annotate` returned when the line was logged (nil without it).
        public var annotation: String?
    }

    /// The lines, shared by every copy of the handler (a `Logger` copies its handler).
    final class Lines: Sendable {
        let all = Mutex<[Line]>([])
    }

    private let lines = Lines()
    private let annotate: (@Sendable () -> String)?
    /// The handler's metadata (swift-log's `LogHandler` requirement; not recorded).
    public var metadata: Logger.Metadata = [:]
    /// Lines below this level are not recorded.
    public var logLevel: Logger.Level
    /// swift-log's `LogHandler` requirement; unused.
    public var metadataProvider: Logger.MetadataProvider?

    /// Records lines at `level` and above; `annotate`, when given, is called as each line is
    /// logged and its result kept with the line (e.g. whether an answer gate was open then).
    public init(level: Logger.Level, annotate: (@Sendable () -> String)? = nil) {
        logLevel = level
        self.annotate = annotate
    }

    /// The handler's metadata for `key`.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Records one line.
    public func log(event: LogEvent) {
        let fields = (event.metadata ?? [:]).mapValues { "\($0)" }
        let annotation = annotate?()
        lines.all.withLock {
            $0.append(Line(level: event.level, message: "\(event.message)", metadata: fields, annotation: annotation))
        }
    }

    /// Every line recorded so far, in the order logged.
    public var recorded: [Line] { lines.all.withLock { $0 } }

    /// A logger writing to this handler, at the handler's level.
    public func logger(label: String) -> Logger {
        var logger = Logger(label: label) { _ in self }
        logger.logLevel = logLevel
        return logger
    }
}
