/// Runs `body` for every element of `elements` concurrently, but with at most `width`
/// child tasks alive at once; returns when all are done.
///
/// A task per element, all created up front, costs its allocation and async frames (one
/// to a few KB) for as long as it waits: tolerable for 100 VIPs, hundreds of MB for
/// 100,000. The engine and the selector fan out to VIP actors through this instead.
func forEachConcurrently<Element: Sendable>(
    _ elements: some Sequence<Element>,
    width: Int = fanOutWidth,
    _ body: @escaping @Sendable (Element) async -> Void
) async {
    await withTaskGroup(of: Void.self) { group in
        var running = 0
        for element in elements {
            if running == max(1, width) {
                await group.next()
                running -= 1
            }
            group.addTask { await body(element) }
            running += 1
        }
    }
}

/// How many child tasks ``forEachConcurrently(_:width:_:)`` keeps alive by default: as
/// many as VIPs may announce at once, so that the first wave of an activation or a
/// failover is as parallel as the pacer allows.
let fanOutWidth = SelectorActor.defaultPermits
