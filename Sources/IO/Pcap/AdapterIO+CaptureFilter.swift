import Logging
import ProxyARPCore

/// What an ``AdapterIO`` knows about its capture filter.
struct CaptureFilterState: Sendable {
    /// The publisher whose tables the filter follows.
    let publisher: AnswerTablePublisher
    /// False: the filter stays as opened (a custom filter).
    let followsTable: Bool
    /// False: the filter is never narrowed (narrowing turned off), only switched between
    /// the two wide filters as IPv6 VIPs come and go.
    let narrows: Bool
    /// The wide filter installed when no program is: ``PcapOptions/defaultFilter``, or
    /// ``PcapOptions/filterWithNeighborDiscovery`` while the table has IPv6 VIPs.
    var wideFilter: String
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

    /// The state of a capture opened with `filter`: followed when it is one of the two wide
    /// filters, narrowed too when `narrows`.
    init(publisher: AnswerTablePublisher, filter: String, narrows: Bool, snapshotLength: UInt32, quietPeriod: Duration) {
        self.publisher = publisher
        followsTable = Self.wideFilters.contains(filter)
        self.narrows = narrows && followsTable
        wideFilter = filter
        self.snapshotLength = snapshotLength
        self.quietPeriod = quietPeriod
    }

    /// The filters the daemon chooses between (a capture opened with another is left alone).
    static let wideFilters: Set<String> = [PcapOptions.defaultFilter, PcapOptions.filterWithNeighborDiscovery]

    /// The wide filter for `table`: with Neighbor Discovery while it has any IPv6 VIP.
    static func wideFilter(for table: AnswerTable) -> String {
        let ipv6 = table.ipv6
        let hasIPv6 = !ipv6.watchedVIPs.isEmpty || ipv6.proxyLists.values.contains { !$0.isEmpty }
        return hasIPv6 ? PcapOptions.filterWithNeighborDiscovery : PcapOptions.defaultFilter
    }
}

extension AdapterIO {
    /// Starts following the answer table: every publication widens the filter at once and
    /// schedules a narrowing after the quiet period. Called once the capture runs.
    func observeAnswerTable() {
        guard captureFilter.followsTable, captureFilter.observer == nil else { return }
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

    /// A table was published: the filter becomes the wide one at once (so a VIP this
    /// adapter now serves is never filtered out), with Neighbor Discovery while the table
    /// has IPv6 VIPs (a reload may add the first or remove the last), and is narrowed again
    /// once the table has been quiet for the quiet period.
    func answerTableChanged() {
        guard captureFilter.observer != nil else { return }
        captureFilter.epoch &+= 1
        let epoch = captureFilter.epoch
        refreshView()
        let wide = CaptureFilterState.wideFilter(for: currentTable)
        if captureFilter.installed != nil || wide != captureFilter.wideFilter {
            do throws(PcapError) {
                _ = try installFilter(nil, wide: wide)
                captureFilter.installed = nil
                if wide != captureFilter.wideFilter {
                    adapterLogger.info("capture filter: \(wide == PcapOptions.defaultFilter ? "no IPv6 VIPs, ARP only" : "IPv6 VIPs, with Neighbor Discovery")", metadata: ["filter": "\(wide)"])
                }
                captureFilter.wideFilter = wide
            } catch {
                adapterLogger.warning("capture filter: could not widen", metadata: ["error": "\(error)"])
            }
        }
        guard captureFilter.narrows else { return }
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
        // The wide filter was chosen for this table by the change that scheduled this narrowing.
        let ipv6 = captureFilter.wideFilter == PcapOptions.filterWithNeighborDiscovery ? table.ipv6.view(for: name) : nil
        guard let program = CaptureFilterProgram(
            served: served, watched: watched, snapshotLength: captureFilter.snapshotLength, neighborDiscovery: ipv6)
        else {
            captureFilter.fallbacks &+= 1
            adapterLogger.info("capture filter: too many ranges, keeping the wide filter", metadata: [
                "served": "\(served.count)", "watched": "\(watched.count)", "ipv6_served": "\(ipv6?.proxyList.count ?? 0)",
                "ipv6_watched": "\(ipv6?.watchedVIPs.count ?? 0)",
            ])
            return
        }
        do throws(PcapError) {
            if try installFilter(program, wide: captureFilter.wideFilter) {
                captureFilter.installed = program
                adapterLogger.info("capture filter narrowed", metadata: [
                    "served": "\(served.count)", "watched": "\(watched.count)", "ipv6_groups_served": "\(program.servedIPv6.count)",
                    "ipv6_groups_ours": "\(program.oursIPv6.count)", "instructions": "\(program.instructions.count)",
                ])
            }
        } catch {
            adapterLogger.warning("capture filter: could not narrow, keeping the wide filter", metadata: ["error": "\(error)"])
        }
    }

    /// The wide filter installed when no program is (for tests).
    public var wideFilter: String { captureFilter.wideFilter }

    /// The program installed now (nil: the default filter), for tests.
    public var installedFilter: CaptureFilterProgram? { captureFilter.installed }
}
