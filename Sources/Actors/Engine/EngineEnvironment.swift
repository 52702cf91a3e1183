import Logging
import ProxyARPCore

/// What every actor of the engine talks to: the world's protocols, the clock, the trace
/// and the logger. A plain value; every member is `Sendable`.
public struct EngineEnvironment: Sendable {
    /// Frame output, answer tables and observations.
    public var io: any FrameIO
    /// Local addresses and outbound paths.
    public var host: any HostNetworking
    /// Time.
    public var clock: any EngineClock
    /// The state trace.
    public var trace: TraceLog
    /// Structured logging.
    public var logger: Logger
    /// Activations logged as one summary line a second (per-VIP lines at debug).
    public var activations = ActivationLog()

    /// Creates an environment.
    public init(io: any FrameIO, host: any HostNetworking, clock: any EngineClock, trace: TraceLog, logger: Logger) {
        self.io = io
        self.host = host
        self.clock = clock
        self.trace = trace
        self.logger = logger
    }
}
