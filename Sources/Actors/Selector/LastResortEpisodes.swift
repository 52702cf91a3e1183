import ProxyARPCore

/// What the selector logs about last resorts: one line when a held-down adapter starts
/// serving as a last resort, one when it stops (it became eligible, its link dropped or it
/// was removed), whatever the number of selection passes in between.
///
/// Before, every pass that gave a last resort VIPs logged a warning: 2,565 lines in a
/// 5-minute soak with a carrier flap every 4 s (issue 11). A pass is one VIP's decision
/// when permits run short, so the count followed the VIPs, not the events.
struct LastResortEpisodes {
    /// One adapter's stretch of last-resort use.
    struct Episode {
        /// When its first VIP was given to it.
        var since: Instant
        /// When its hold-down ends, as of the latest VIP given.
        var until: Instant
        /// VIPs given to it in this stretch.
        var vips: Int
        /// False until the line saying it started was handed out.
        var reported: Bool
    }

    /// A line to log.
    struct Line: Equatable {
        /// `started` (warning) or `ended` (info).
        enum Kind: Equatable {
            case started
            case ended(because: String)
        }

        var kind: Kind
        var adapter: AdapterName
        var vips: Int
        /// `started`: time left of the hold-down; `ended`: how long it served.
        var nanoseconds: Int64
    }

    private(set) var episodes: [AdapterName: Episode] = [:]

    /// `adapter` was given one VIP as a last resort; its hold-down ends at `until`.
    mutating func given(to adapter: AdapterName, until: Instant, now: Instant) {
        if var episode = episodes[adapter] {
            episode.vips += 1
            episode.until = until
            episodes[adapter] = episode
        } else {
            episodes[adapter] = Episode(since: now, until: until, vips: 1, reported: false)
        }
    }

    /// The end of a selection pass: a `started` line per adapter whose stretch began in it.
    mutating func endPass(now: Instant) -> [Line] {
        var lines: [Line] = []
        for (name, episode) in episodes.sorted(by: { $0.key < $1.key }) where !episode.reported {
            episodes[name]?.reported = true
            lines.append(Line(
                kind: .started, adapter: name, vips: episode.vips,
                nanoseconds: max(0, episode.until.nanoseconds - now.nanoseconds)))
        }
        return lines
    }

    /// `adapter`'s candidate changed: when it is no longer a last resort (`isLastResort`
    /// false) its stretch ends, with an `ended` line if a `started` one was given.
    mutating func changed(_ adapter: AdapterName, isLastResort: Bool, because reason: String, now: Instant) -> Line? {
        guard !isLastResort, let episode = episodes.removeValue(forKey: adapter), episode.reported else { return nil }
        return Line(
            kind: .ended(because: reason), adapter: adapter, vips: episode.vips,
            nanoseconds: max(0, now.nanoseconds - episode.since.nanoseconds))
    }
}
