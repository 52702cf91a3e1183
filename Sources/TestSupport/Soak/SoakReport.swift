/// One line of the soak's report (every 30 s by default).
public struct SoakSample: Sendable, Equatable, Codable {
    /// Seconds since the load started.
    public var elapsedSeconds: Double
    /// The daemon's `VmRSS` (`/proc/PID/status`), KiB.
    public var residentKiB: Int
    /// Open file descriptors (`/proc/PID/fd`): the fewest of a burst of readings 0.5 s apart
    /// spanning one reload period and a second, so that a descriptor open for a moment (a
    /// status connection, a dump being written) is not counted; a leaked one is in every reading.
    public var fileDescriptors: Int
    /// Threads (`Threads:` of `/proc/PID/status`), the fewest of the same burst (libdispatch
    /// keeps one or two overcommit workers alive in turn; ``threadsPeak`` is what is judged).
    public var threads: Int
    /// The most descriptors in the burst.
    public var fileDescriptorsPeak: Int
    /// The most threads in the burst: the daemon's own threads plus libdispatch's workers at
    /// their most.
    public var threadsPeak: Int
    /// The same burst's threads by owner (``SoakThreadKind``): what is judged.
    public var threadKinds: SoakThreadSample?
    /// Records in the trace ring: min(capacity, latest sequence number seen by the follower).
    public var traceFill: Int
    /// The ring's capacity.
    public var traceCapacity: Int
    /// VIPs by state in the latest status.
    public var vipsByState: [String: Int]
    /// ARP requests sent per second since the previous line.
    public var requestsPerSecond: Double
    /// ARP replies heard per second since the previous line.
    public var repliesPerSecond: Double
    /// Wrong replies so far.
    public var wrongReplies: UInt64
    /// VIPs stuck in the latest status.
    public var stuckVIPs: Int
    /// Carrier flaps and reloads so far.
    public var flaps: Int
    /// Reloads (SIGHUP) so far.
    public var reloads: Int

    /// Creates a sample.
    public init(
        elapsedSeconds: Double, residentKiB: Int, fileDescriptors: Int, threads: Int, fileDescriptorsPeak: Int? = nil,
        threadsPeak: Int? = nil, threadKinds: SoakThreadSample? = nil, traceFill: Int, traceCapacity: Int,
        vipsByState: [String: Int], requestsPerSecond: Double, repliesPerSecond: Double, wrongReplies: UInt64, stuckVIPs: Int,
        flaps: Int, reloads: Int
    ) {
        self.elapsedSeconds = elapsedSeconds
        self.residentKiB = residentKiB
        self.fileDescriptors = fileDescriptors
        self.threads = threads
        self.fileDescriptorsPeak = fileDescriptorsPeak ?? fileDescriptors
        self.threadsPeak = threadsPeak ?? threads
        self.threadKinds = threadKinds
        self.traceFill = traceFill
        self.traceCapacity = traceCapacity
        self.vipsByState = vipsByState
        self.requestsPerSecond = requestsPerSecond
        self.repliesPerSecond = repliesPerSecond
        self.wrongReplies = wrongReplies
        self.stuckVIPs = stuckVIPs
        self.flaps = flaps
        self.reloads = reloads
    }

    /// The report line.
    public var line: String {
        let states = vipsByState.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        return "t=\(Self.format(elapsedSeconds, 0))s rss=\(Self.format(Double(residentKiB) / 1024, 1))MiB fds=\(fileDescriptors)(\(fileDescriptorsPeak)) "
            + "threads=\(threads)(\(threadsPeak))\(threadKinds.map { "[\($0.text)]" } ?? "") trace=\(traceFill)/\(traceCapacity) vips[\(states)] "
            + "req/s=\(Self.format(requestsPerSecond, 0)) replies/s=\(Self.format(repliesPerSecond, 0)) "
            + "wrong=\(wrongReplies) stuck=\(stuckVIPs) flaps=\(flaps) reloads=\(reloads)"
    }

    /// `value` with `digits` decimals (no Foundation in TestSupport's report types).
    public static func format(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return "-" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        if digits == 0 { return String(Int(rounded)) }
        let whole = Int(rounded.rounded(.towardZero))
        let fraction = Int((abs(rounded - Double(whole)) * scale).rounded())
        let text = String(fraction)
        return "\(rounded < 0 && whole == 0 ? "-" : "")\(whole).\(String(repeating: "0", count: max(0, digits - text.count)))\(text)"
    }
}

/// One pass/fail judgement of the soak against issue 11's criteria.
public struct SoakCriterion: Sendable, Equatable, Codable {
    /// What is judged, e.g. `wrong replies`.
    public var name: String
    /// True when met, false when failed, nil when it could not be judged (said in `detail`).
    public var met: Bool?
    /// The figures behind the judgement.
    public var detail: String

    /// Creates a criterion.
    public init(name: String, met: Bool?, detail: String) {
        self.name = name
        self.met = met
        self.detail = detail
    }
}

/// Everything a soak measured, and its judgement.
public struct SoakReport: Sendable, Equatable, Codable {
    /// The daemon executable.
    public var daemon: String
    /// Seconds of load asked for.
    public var plannedSeconds: Double
    /// Requests per second asked for.
    public var offeredRate: Int
    /// VIPs in the two configurations, and in their union (the generator asks for every one).
    public var vipsA: Int
    /// VIPs of the second configuration.
    public var vipsB: Int
    /// VIPs the generator asks for.
    public var vipsAsked: Int
    /// Host adapters.
    public var adapters: [String]
    /// `selection.block_prefix_length` of the run.
    public var blockPrefixLength: Int
    /// The wrong-reply allowance, milliseconds.
    public var graceMilliseconds: Int
    /// The stuck bound, seconds.
    public var stuckAfterSeconds: Double
    /// `timers.hold_down` of the run.
    public var holdDown: String = "2s"
    /// Online CPUs (`sysconf(_SC_NPROCESSORS_ONLN)`, what libdispatch sizes its pools by);
    /// 0 when not known.
    public var onlineCPUs = 0
    /// The report lines.
    public var samples: [SoakSample] = []
    /// ARP requests sent.
    public var requestsSent: UInt64 = 0
    /// ARP replies heard.
    public var repliesHeard: UInt64 = 0
    /// Replies judged by the checker.
    public var repliesChecked: UInt64 = 0
    /// Replies judged wrong.
    public var wrongReplies: UInt64 = 0
    /// Replies heard but not judged (the generator's ring overflowed): must be 0.
    public var repliesUnchecked: UInt64 = 0
    /// The first wrong replies.
    public var wrongExamples: [SoakWrongReply] = []
    /// VIPs ever stuck, with the longest time seen not active (seconds).
    public var stuckVIPs: [String: Double] = [:]
    /// VIPs not active in the final status, after the load stopped and a settling pause.
    public var finalNotActive: [String: String] = [:]
    /// Carrier flaps done.
    public var flaps = 0
    /// Reloads (SIGHUP) sent.
    public var reloads = 0
    /// `status --all --json` polls that succeeded / failed.
    public var statusPolls = 0
    /// Status polls (and `status` calls) that failed.
    public var statusFailures = 0
    /// Plain `status` calls that succeeded.
    public var statusCalls = 0
    /// SIGUSR1 sent, and dump files found in the state directory at the end.
    public var dumpsRequested = 0
    /// Dump files found.
    public var dumpsWritten = 0
    /// Trace records the `trace --follow` client printed, and whether it was still running at the end.
    public var traceFollowerRecords = 0
    /// True when the follower was still running when the load stopped.
    public var traceFollowerAlive = false
    /// True when the daemon was still running when the load stopped.
    public var daemonAlive = false
    /// The load average (1, 5, 15 min) at the start and at the end.
    public var loadAverageStart: [Double] = []
    /// The load average at the end.
    public var loadAverageEnd: [Double] = []
    /// The judgement.
    public var criteria: [SoakCriterion] = []

    /// Creates a report with its settings.
    public init(
        daemon: String, plannedSeconds: Double, offeredRate: Int, vipsA: Int, vipsB: Int, vipsAsked: Int, adapters: [String],
        blockPrefixLength: Int, graceMilliseconds: Int, stuckAfterSeconds: Double
    ) {
        self.daemon = daemon
        self.plannedSeconds = plannedSeconds
        self.offeredRate = offeredRate
        self.vipsA = vipsA
        self.vipsB = vipsB
        self.vipsAsked = vipsAsked
        self.adapters = adapters
        self.blockPrefixLength = blockPrefixLength
        self.graceMilliseconds = graceMilliseconds
        self.stuckAfterSeconds = stuckAfterSeconds
    }

    /// True when no criterion failed (one not judged does not fail the run; it is said).
    public var passed: Bool { !criteria.contains { $0.met == false } }
}
