import Logging
import ProxyARPCore

/// What an ``AdapterIO`` knows about its capture filter.
struct CaptureFilterState: Sendable {
    /// The publisher whose tables the filter follows.
    let publisher: AnswerTablePublisher
    /// False: the filter stays as opened (a custom filter, or narrowing turned off).
    let enabled: Bool
    /// The accept length of the program.
    let snapshotLength: UInt32
    /// How long the table must stay unchanged before the filter is narrowed.
    let quietPeriod: Duration
    /// The observer token, while registered.
    var observer: UInt64?
    /// The program installed now; nil: the default (wide) filter.
    var installed: CaptureFilterProgram?
    /// Bumped by every table change: a narrowing scheduled before a later change is void.
    var epoch: UInt64 = 0
    /// Narrowings that did not fit ``CaptureFilterProgram/defaultMaximumInstructions``.
    var fallbacks: UInt64 = 0

    init(publisher: AnswerTablePublisher, enabled: Bool, snapshotLength: UInt32, quietPeriod: Duration) {
        self.publisher = publisher
        self.enabled = enabled
        self.snapshotLength = snapshotLength
        self.quietPeriod = quietPeriod
    }
}

extension AdapterIO {
    /// Starts following the answer table: every publication widens the filter at once and
    /// schedules a narrowing after the quiet period. Called once the capture runs.
    func observeAnswerTable() {
        guard captureFilter.enabled, captureFilter.observer == nil else { return }
        captureFilter.observer = captureFilter.publisher.addObserver { [weak self] in
            guard let self else { return }
            Task { await self.answerTableChanged() }
        }
        answerTableChanged()
    }

    /// Stops following the table (the capture closes).
    func stopObservingAnswerTable() {
        if let token = captureFilter.observer { captureFilter.publisher.removeObserver(token) }
        captureFilter.observer = nil
        captureFilter.epoch &+= 1
    }

    /// A table was published: the filter becomes the wide default at once (so a VIP this
    /// adapter now serves is never filtered out), and is narrowed again once the table
    /// has been quiet for the quiet period.
    func answerTableChanged() {
        guard captureFilter.observer != nil else { return }
        captureFilter.epoch &+= 1
        let epoch = captureFilter.epoch
        if captureFilter.installed != nil {
            do throws(PcapError) {
                _ = try installFilter(nil)
                captureFilter.installed = nil
            } catch {
                adapterLogger.warning("capture filter: could not widen", metadata: ["error": "\(error)"])
            }
        }
        let quiet = captureFilter.quietPeriod
        Task {
            try? await Task.sleep(for: quiet)
            self.narrowFilter(epoch: epoch)
        }
    }

    /// Narrows the filter to the latest table, unless the table changed since `epoch`.
    func narrowFilter(epoch: UInt64) {
        guard captureFilter.observer != nil, epoch == captureFilter.epoch else { return }
        refreshView()
        let table = currentTable
        let served = CaptureFilterProgram.ranges(of: table.proxyLists[name]?.vips ?? AddressSet())
        let watched = CaptureFilterProgram.ranges(of: table.watchedVIPs)
        guard let program = CaptureFilterProgram(served: served, watched: watched, snapshotLength: captureFilter.snapshotLength) else {
            captureFilter.fallbacks &+= 1
            adapterLogger.info("capture filter: too many ranges, keeping arp", metadata: ["served": "\(served.count)", "watched": "\(watched.count)"])
            return
        }
        do throws(PcapError) {
            if try installFilter(program) {
                captureFilter.installed = program
                adapterLogger.info("capture filter narrowed", metadata: ["served": "\(served.count)", "watched": "\(watched.count)", "instructions": "\(program.instructions.count)"])
            }
        } catch {
            adapterLogger.warning("capture filter: could not narrow, keeping arp", metadata: ["error": "\(error)"])
        }
    }

    /// The program installed now (nil: the default filter), for tests.
    public var installedFilter: CaptureFilterProgram? { captureFilter.installed }
}
