/// Judges a soak against issue 11's criteria: RSS growth under 5 % from the first report
/// after the trace ring is full to the end; file descriptors and threads flat; no VIP stuck;
/// no wrong reply; and the daemon and its clients alive at the end (every status call
/// answered, every SIGUSR1 dump written).
public enum SoakJudge {
    /// How much the steady descriptor count (the fewest of a burst of readings spanning a reload period, see
    /// ``SoakSample/fileDescriptors``) may differ between the first and the last line.
    public static let fileDescriptorSlack = 0
    /// RSS growth allowed after the trace ring is full, percent.
    public static let residentGrowthLimitPercent = 5.0

    /// The criteria for `report` (its samples and totals filled in).
    public static func criteria(_ report: SoakReport) -> [SoakCriterion] {
        var result: [SoakCriterion] = []
        let samples = report.samples

        // RSS, from the first sample with the ring full to the last sample.
        if let baseline = samples.firstIndex(where: { $0.traceCapacity > 0 && $0.traceFill >= $0.traceCapacity }),
            baseline < samples.count - 1, samples[baseline].residentKiB > 0
        {
            let start = samples[baseline].residentKiB
            let end = samples[samples.count - 1].residentKiB
            let peak = samples[baseline...].map(\.residentKiB).max() ?? end
            let growth = 100 * Double(end - start) / Double(start)
            result.append(.init(
                name: "RSS growth < 5 % after the trace ring is full", met: growth < residentGrowthLimitPercent,
                detail: "from \(kib(start)) at t=\(SoakSample.format(samples[baseline].elapsedSeconds, 0))s (ring full) to \(kib(end)) at the end: "
                    + "\(SoakSample.format(growth, 2)) % (peak \(kib(peak)))"))
        } else {
            result.append(.init(
                name: "RSS growth < 5 % after the trace ring is full", met: nil,
                detail: "not judged: the trace ring was not full before the last report line (fill \(samples.last.map { "\($0.traceFill)/\($0.traceCapacity)" } ?? "-"))"))
        }

        if let first = samples.first, let last = samples.last {
            let fds = samples.map(\.fileDescriptors)
            let fdPeak = samples.map(\.fileDescriptorsPeak).max()!
            result.append(.init(
                name: "file descriptors flat", met: abs(last.fileDescriptors - first.fileDescriptors) <= fileDescriptorSlack,
                detail: "steady (fewest of each line's burst of readings): start \(first.fileDescriptors), end \(last.fileDescriptors), min \(fds.min()!), max \(fds.max()!) "
                    + "(max - min \(fds.max()! - fds.min()!)); any single reading: \(fdPeak) at most"))
            result.append(threadCriterion(samples, onlineCPUs: report.onlineCPUs))
        } else {
            result.append(.init(name: "file descriptors flat", met: false, detail: "no report line"))
            result.append(.init(name: threadsName, met: false, detail: "no report line"))
        }

        let stuck = report.stuckVIPs.keys.sorted()
        let final = report.finalNotActive.sorted { $0.key < $1.key }
        result.append(.init(
            name: "0 VIPs stuck", met: stuck.isEmpty && final.isEmpty,
            detail: "stuck during the run (not active > \(SoakSample.format(report.stuckAfterSeconds, 1)) s): \(stuck.count)\(stuck.isEmpty ? "" : " \(stuck.prefix(10))"); "
                + "not active at the end: \(final.count)\(final.isEmpty ? "" : " \(final.prefix(10).map { "\($0.key)=\($0.value)" })")"))

        result.append(.init(
            name: "0 wrong replies",
            met: report.wrongReplies == 0 && report.repliesUnchecked == 0 && report.repliesChecked > 0,
            detail: "\(report.wrongReplies) wrong of \(report.repliesChecked) checked (\(report.repliesHeard) heard, \(report.repliesUnchecked) unchecked)"
                + (report.wrongExamples.first.map { "; first: \($0.vip) from \($0.mac): \($0.reason)" } ?? "")))

        result.append(.init(
            name: "daemon and clients alive", met: report.daemonAlive && report.traceFollowerAlive && report.statusFailures == 0 && report.dumpsWritten >= report.dumpsRequested,
            detail: "daemon \(report.daemonAlive ? "running" : "gone"), trace --follow \(report.traceFollowerAlive ? "running" : "gone") (\(report.traceFollowerRecords) records), "
                + "status polls \(report.statusPolls) + calls \(report.statusCalls), failures \(report.statusFailures), dumps \(report.dumpsWritten)/\(report.dumpsRequested)"))
        return result
    }

    /// The thread criterion's name.
    public static let threadsName = "threads: the daemon's own flat, executor workers within libdispatch's bound"

    /// Threads by owner (``SoakThreadKind``): the daemon's own threads and libdispatch's
    /// service threads must be exactly flat (the fewest of each burst: a thread seen in only
    /// some readings is a transient one); Swift's executor workers, whose number libdispatch
    /// sets by load, must stay within libdispatch's bound, 2 × online CPUs per queue. A run
    /// whose lines carry no breakdown is judged as before: every thread flat.
    static func threadCriterion(_ samples: [SoakSample], onlineCPUs: Int) -> SoakCriterion {
        let all = samples.map(\.threadsPeak)
        let totals = "all threads (most of each burst): start \(samples.first!.threadsPeak), end \(samples.last!.threadsPeak), "
            + "min \(all.min()!), max \(all.max()!)"
        let kinds = samples.compactMap(\.threadKinds)
        guard kinds.count == samples.count, onlineCPUs > 0 else {
            return .init(name: threadsName, met: samples.last!.threadsPeak == samples.first!.threadsPeak,
                         detail: totals + " (no per-owner breakdown: judged as all flat)")
        }
        let own = kinds.map(\.daemonOwned)
        let service = kinds.map(\.dispatchService)
        let perQueue = kinds.map(\.executorWorkersPerQueue).max()!
        let bound = SoakThreadKind.executorWorkerBound(onlineCPUs: onlineCPUs)
        let ownFlat = own.min() == own.max()
        let serviceFlat = service.min() == service.max()
        return .init(
            name: threadsName, met: ownFlat && serviceFlat && perQueue <= bound,
            detail: "daemon's own (fewest of each burst) \(own.first!) -> \(own.last!), min \(own.min()!), max \(own.max()!)"
                + " (most \(kinds.map(\.daemonOwnedPeak).max()!)); "
                + "libdispatch service threads (fewest of each burst) min \(service.min()!), max \(service.max()!); "
                + "executor workers (most of any burst, one queue) \(perQueue) of at most \(bound) "
                + "(libdispatch: \(onlineCPUs) online CPUs, one more a second while work waits and fewer than \(onlineCPUs) run, to 2 × \(onlineCPUs)); "
                + totals)
    }

    private static func kib(_ value: Int) -> String { "\(SoakSample.format(Double(value) / 1024, 1)) MiB" }
}
