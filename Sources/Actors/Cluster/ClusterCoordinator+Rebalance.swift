import Logging
import Metrics
import ProxyARPCore
import ProxyARPStateMachines

/// The coordinator's membership and rebalancing state: who can serve and since when, the
/// handovers in flight, and this host's own membership key.
struct ClusterBalance: Sendable {
    /// The other hosts as this host sees them.
    var membership: ClusterMembership
    /// Which owned units go to their natural owner.
    var rebalancer: ClusterRebalancer
    /// This host's membership key as last seen under its current lease.
    var ownKey: OwnKey?
    /// A write of this host's ability is in flight.
    var publishing = false

    /// This host's membership key.
    struct OwnKey: Sendable {
        /// The lease it was written with.
        var lease: LeaseID
        /// Its create revision (the guard of a rewrite).
        var token: FencingToken
        /// What it says.
        var value: String
    }

    /// A fresh state for `host`; `settle` is `cluster.rebalance_after` (zero: off).
    init(host: String, settle: Duration) {
        membership = ClusterMembership(host: host)
        rebalancer = ClusterRebalancer(settings: RebalanceSettings(settle: settle))
    }

    /// The lease is gone: no handover is in flight any more, and the key went with it.
    mutating func leaseLost() {
        rebalancer.reset()
        ownKey = nil
    }
}

/// Rebalancing (issue 12): every host publishes on its membership key whether it can serve
/// (`able` / `unable`), and watches the others'. A host that owns a unit whose natural owner
/// (rank 0 among the able hosts, `preferred_hosts` first) is another host, able for
/// `cluster.rebalance_after` without a break, hands it over: its machine stops serving, the
/// engine withdraws the VIPs, then the key is deleted guarded by its token, and the natural
/// owner, rank 0 for the unit, claims it at once on the DELETE. At most
/// ``RebalanceSettings/inFlight`` handovers at a time per host.
extension ClusterCoordinator {
    /// How often the coordinator looks for units to hand over and for an ability to publish.
    static let rebalanceInterval = Duration.milliseconds(250)

    /// Posts a rebalance tick every ``rebalanceInterval`` (a child of `run`'s group).
    func rebalanceLoop() async {
        let post = self.post
        while !Task.isCancelled {
            do { try await Task.sleep(for: Self.rebalanceInterval) } catch { return }
            post.yield(.rebalanceTick)
        }
    }

    /// A membership key PUT with a lease, seen by the watch. Returns true when the set of
    /// able hosts changed (the ranks change with it).
    func memberSeen(_ record: OwnershipRecord, name: String, now: Instant) -> Bool {
        if name == cluster.host {
            if let lease = record.lease, lease == self.lease?.id {
                balance.ownKey = ClusterBalance.OwnKey(lease: lease, token: record.token, value: record.value)
            }
            return false
        }
        let changed = balance.membership.seen(name, value: record.value, now: now)
        if changed {
            let able = ClusterMembership.isAble(value: record.value)
            logger.info(able ? "cluster member able" : "cluster member unable", metadata: ["member": "\(name)"])
        }
        return changed
    }

    /// A membership key was deleted. Returns true when an able host went.
    func memberGone(_ name: String) -> Bool {
        if name == cluster.host {
            balance.ownKey = nil
            return false
        }
        let wasAble = balance.membership.gone(name)
        logger.info("cluster member gone", metadata: ["member": "\(name)"])
        return wasAble
    }

    /// A listing's membership keys (leaseless ones already left out), by host name.
    func membershipListed(_ records: [String: OwnershipRecord], now: Instant) {
        var others: [String: String] = [:]
        for (name, record) in records {
            if name == cluster.host {
                if let lease = record.lease, lease == self.lease?.id {
                    balance.ownKey = ClusterBalance.OwnKey(lease: lease, token: record.token, value: record.value)
                }
            } else {
                others[name] = record.value
            }
        }
        balance.membership.replace(with: others, now: now)
    }

    /// Whether this host can serve, as its membership key should say.
    var publishedAbility: Bool { nicEligible && !stopping }

    /// Rewrites this host's membership key when it says otherwise than ``publishedAbility``
    /// (guarded by the key's create revision, under this host's lease), one write at a time.
    func publishAbilityIfNeeded(in group: inout DiscardingTaskGroup) {
        guard !balance.publishing, let lease, let own = balance.ownKey, own.lease == lease.id else { return }
        let value = ClusterMembership.value(able: publishedAbility)
        guard own.value != value else { return }
        balance.publishing = true
        let (store, post, key) = (self.store, self.post, keys.hostKey(cluster.host))
        group.addTask {
            let stored = (try? await store.reassert(key: key, value: value, lease: lease.id, token: own.token)) ?? false
            post.yield(.membershipPublished(value: value, stored: stored))
        }
    }

    /// The ability write finished (the watch's PUT confirms it too).
    func membershipPublished(value: String, stored: Bool) {
        balance.publishing = false
        guard stored else { return }
        balance.ownKey?.value = value
        logger.info("membership published", metadata: ["able": "\(ClusterMembership.isAble(value: value))"])
    }

    /// Hands over the owned units whose natural owner is another settled host (bounded).
    func rebalance(now: Instant, in group: inout DiscardingTaskGroup) {
        let selfAble = nicEligible && lease != nil && snapshotLoaded && settled && !stopping && !fenced
        let owned = machines.filter(\.value.serves).keys.map { ClusterRebalancer.OwnedUnit(unit: $0, preferred: units.preferredHosts[$0] ?? []) }
        guard !owned.isEmpty else { return }
        let chosen = balance.rebalancer.handovers(owned: owned, membership: balance.membership, selfAble: selfAble, now: now)
        for (unit, target) in chosen {
            logger.notice("handing over to its natural owner", metadata: ["unit": "\(unit)", "to": "\(target)"])
            Counter(label: ClusterMetrics.handovers).increment()
            step(unit, .handOver, now: now, in: &group)
        }
    }
}

extension ClusterMetrics {
    /// Units this host handed over to their natural owner (rebalancing).
    public static let handovers = "proxyarpd_cluster_handovers_total"
}
