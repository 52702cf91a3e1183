import ProxyARPCore
import Synchronization

/// Every VIP's ``VIPBrief`` (state name, agent, conflicts), written by its actor at each
/// transition and read in one lock: a `status` summary of 130,000 VIPs without 130,000
/// actor hops (they took seconds; the hop is the cost, not the text).
final class VIPBoard: Sendable {
    private let briefs = Mutex<[IPAddress: VIPBrief]>([:])

    /// Adds a VIP's first brief (its actor, when created).
    func add(_ brief: VIPBrief) {
        briefs.withLock { $0[brief.vip] = brief }
    }

    /// Records `brief` after a transition, unless the VIP was removed meanwhile (a removed
    /// VIP's withdrawal still moves its machine).
    func publish(_ brief: VIPBrief) {
        briefs.withLock { briefs in
            if briefs[brief.vip] != nil { briefs[brief.vip] = brief }
        }
    }

    /// Forgets `vip` (removed by a reload).
    func remove(_ vip: IPAddress) {
        briefs.withLock { $0[vip] = nil }
    }

    /// Every brief, by address.
    var all: [VIPBrief] {
        var all = briefs.withLock { Array($0.values) }
        all.sort { $0.vip < $1.vip }
        return all
    }
}
