import CCap
import Glibc
import Synchronization

/// A bound on glibc's malloc arenas for `proxyarpd run`, set on the main thread before any
/// other thread exists.
///
/// glibc gives each new thread that allocates an arena of its own, up to 8 per core, and
/// memory freed in one arena is never reused by another. A thread that joins late (Swift
/// Concurrency's pool on Linux is libdispatch's, which adds a worker when one blocks while
/// work waits) then brings a new arena, and the daemon's RSS steps up and stays there: in
/// the 30-minute soak, one pool worker added at t = 240 s came with a +1.7 MiB step. With
/// at most ``limit`` arenas every later thread shares one already there; glibc's per-thread
/// cache (tcache) keeps most small allocations off the arenas' locks, and the answer path
/// allocates nothing per frame.
///
/// An operator's own setting wins: with `MALLOC_ARENA_MAX` or a `glibc.malloc.arena_max`
/// tunable in `GLIBC_TUNABLES` in the environment, nothing is changed.
public enum MallocArenas {
    /// The most arenas: the main one and one more.
    public static let limit: Int32 = 2

    private static let bound = Mutex<Int32?>(nil)

    /// Sets the bound unless the environment sets one; call once, on the main thread,
    /// before any other thread exists. Returns the bound set, or nil.
    @discardableResult
    public static func apply() -> Int32? {
        if getenv("MALLOC_ARENA_MAX") != nil { return nil }
        if let tunables = getenv("GLIBC_TUNABLES"), String(cString: tunables).contains("glibc.malloc.arena_max") {
            return nil
        }
        guard proxyarpd_malloc_arena_max(limit) == 1 else { return nil }
        bound.withLock { $0 = limit }
        return limit
    }

    /// What ``apply()`` set (the daemon logs it once logging is set up).
    public static var applied: Int32? { bound.withLock { $0 } }
}
