/// The bounds of the control socket: how many clients it serves at once, how long it
/// waits for them, and how much `trace --follow` output it holds for a slow reader.
///
/// Chosen for operators and monitoring, not for traffic: a few CLI calls and a watchdog
/// at a time. Every bound keeps the daemon's file descriptors and memory flat whatever
/// the clients do (failure 5 of issue 11: 65 idle clients at a limit of 80 descriptors
/// made `status` hang and the SIGUSR1 dump fail).
public struct ControlLimits: Sendable, Equatable {
    /// Clients served at once. One more closes the client idle the longest (told
    /// `tooManyClients`), or is itself refused so when every client is busy.
    public var maximumClients: Int
    /// A client with no request in progress and nothing sent for this long is told
    /// `idleTimeout` and closed (`trace --follow` clients are never idle).
    public var idleTimeout: Duration
    /// The longest a `status` or `reload` may take to be answered, and the longest a reply
    /// may wait for the client to read it, before the connection is closed.
    public var requestTimeout: Duration
    /// Bytes of `trace --follow` output held for one client that reads slowly; records
    /// beyond it are dropped for that client, counted, and the count sent to it.
    public var followBacklogBytes: Int
    /// First pause of the accept loop after `EMFILE`/`ENFILE`; doubles up to
    /// ``acceptBackoffMaximum`` while the shortage lasts.
    public var acceptBackoff: Duration
    /// Longest pause of the accept loop.
    public var acceptBackoffMaximum: Duration

    /// Creates limits.
    public init(
        maximumClients: Int = 32, idleTimeout: Duration = .seconds(30), requestTimeout: Duration = .seconds(10),
        followBacklogBytes: Int = 1 << 20, acceptBackoff: Duration = .milliseconds(50),
        acceptBackoffMaximum: Duration = .seconds(1)
    ) {
        self.maximumClients = maximumClients
        self.idleTimeout = idleTimeout
        self.requestTimeout = requestTimeout
        self.followBacklogBytes = followBacklogBytes
        self.acceptBackoff = acceptBackoff
        self.acceptBackoffMaximum = acceptBackoffMaximum
    }

    /// The daemon's limits: 32 clients, 30 s idle, 10 s per request, 1 MiB follow backlog.
    public static let standard = ControlLimits()
}
