import ProxyARPCore
import ProxyARPStateMachines
import Testing

/// Membership (able hosts, since when) and the rebalancer's choice of handovers.
@Suite struct ClusterRebalancerTests {
    private let t0 = Fixture.t0
    private let units = (0..<60).map { "198.18.0.\($0)" }

    /// The units whose natural owner among `hosts` is `host`.
    private func natural(_ host: String, among hosts: [String], units: [String]) -> [String] {
        units.filter { RendezvousRank.order(hosts: hosts, unit: $0).first == host }
    }

    @Test func membershipCountsOnlyAbleHostsAndKeepsTheirAge() {
        var membership = ClusterMembership(host: "alpha")
        let result1 = membership.seen("beta", value: "beta", now: t0)
        #expect(result1)  // registered with its name: able
        let result2 = membership.seen("gamma", value: "unable", now: t0)
        #expect(!result2)  // a new unable host changes no rank
        #expect(membership.claimHosts(selfAble: true).sorted() == ["alpha", "beta"])
        #expect(membership.claimHosts(selfAble: false) == ["beta"])
        let result3 = membership.seen("beta", value: "able", now: t0 + .seconds(5))
        #expect(!result3)  // still able: age kept
        #expect(membership.isSettled("beta", now: t0 + .seconds(3), settle: .seconds(3)))
        #expect(!membership.isSettled("gamma", now: t0 + .seconds(30), settle: .seconds(3)))
        let result4 = membership.seen("gamma", value: "able", now: t0 + .seconds(10))
        #expect(result4)
        #expect(!membership.isSettled("gamma", now: t0 + .seconds(12), settle: .seconds(3)))
        #expect(membership.isSettled("gamma", now: t0 + .seconds(13), settle: .seconds(3)))
        // A flap (unable, able again) restarts the age.
        let result5 = membership.seen("gamma", value: "unable", now: t0 + .seconds(14))
        #expect(result5)
        let result6 = membership.seen("gamma", value: "able", now: t0 + .seconds(15))
        #expect(result6)
        #expect(!membership.isSettled("gamma", now: t0 + .seconds(17), settle: .seconds(3)))
        let result7 = membership.gone("gamma")
        #expect(result7)
        let result8 = membership.gone("gamma")
        #expect(!result8)
        let result9 = membership.seen("alpha", value: "unable", now: t0)
        #expect(!result9)  // this host's own key is not a member
        // A listing keeps the age of hosts already known able.
        membership.replace(with: ["beta": "able", "delta": "able", "alpha": "able"], now: t0 + .seconds(20))
        #expect(membership.members["beta"]?.ableSince == t0)
        #expect(membership.members["delta"]?.ableSince == t0 + .seconds(20))
        #expect(membership.members["alpha"] == nil)
    }

    @Test func ranksAndNaturalOwnerLeaveUnableHostsOut() {
        var membership = ClusterMembership(host: "alpha")
        membership.seen("beta", value: "able", now: t0)
        membership.seen("gamma", value: "unable", now: t0)
        for unit in units {
            let order = RendezvousRank.order(hosts: ["alpha", "beta"], unit: unit)
            #expect(membership.naturalOwner(unit: unit, preferred: [], selfAble: true) == order[0])
            #expect(membership.rank(unit: unit, preferred: []) == order.firstIndex(of: "alpha"))
        }
        #expect(membership.naturalOwner(unit: units[0], preferred: ["gamma", "beta"], selfAble: true) == "beta")
        #expect(membership.rank(unit: units[0], preferred: ["alpha"]) == 0)
        #expect(membership.naturalOwner(unit: units[0], preferred: [], selfAble: false) == "beta")
    }

    @Test func handsOverExactlyTheNaturalOwnersUnitsOnceSettledBoundedInFlight() {
        var membership = ClusterMembership(host: "alpha")
        var rebalancer = ClusterRebalancer(settings: RebalanceSettings(settle: .seconds(3), inFlight: 4))
        let owned = units.map { ClusterRebalancer.OwnedUnit(unit: $0) }
        membership.seen("beta", value: "able", now: t0)
        // Not settled yet: nothing moves.
        let result10 = rebalancer.handovers(owned: owned, membership: membership, selfAble: true, now: t0 + .seconds(2))
        #expect(result10.isEmpty)
        // Settled: beta's natural units go, 4 at a time.
        let betas = natural("beta", among: ["alpha", "beta"], units: units).sorted()
        #expect(betas.count > 10 && betas.count < 50, "\(betas.count)")
        var moved: [String] = []
        var now = t0 + .seconds(3)
        for _ in 0..<100 where moved.count < betas.count {
            let chosen = rebalancer.handovers(owned: owned.filter { !moved.contains($0.unit) }, membership: membership, selfAble: true, now: now)
            #expect(chosen.count <= 4)
            #expect(chosen.allSatisfy { $0.target == "beta" })
            #expect(rebalancer.inFlight.count <= 4)
            for (unit, _) in chosen {
                moved.append(unit)
                rebalancer.claimed(unit, by: "beta", now: now)
            }
            now = now + .milliseconds(250)
        }
        #expect(moved.sorted() == betas)
        // Nothing left to move; nothing while this host cannot serve; nothing when rebalancing is off.
        let rest = owned.filter { !moved.contains($0.unit) }
        let result11 = rebalancer.handovers(owned: rest, membership: membership, selfAble: true, now: now)
        #expect(result11.isEmpty)
        var off = ClusterRebalancer(settings: RebalanceSettings(settle: .zero))
        let result12 = off.handovers(owned: owned, membership: membership, selfAble: true, now: now)
        #expect(result12.isEmpty)
        var fresh = ClusterRebalancer()
        let result13 = fresh.handovers(owned: owned, membership: membership, selfAble: false, now: now)
        #expect(result13.isEmpty)
    }

    @Test func preferredHostsComeFirst() {
        var membership = ClusterMembership(host: "alpha")
        membership.seen("beta", value: "able", now: t0)
        var rebalancer = ClusterRebalancer()
        let unit = natural("alpha", among: ["alpha", "beta"], units: units)[0]
        let chosen = rebalancer.handovers(
            owned: [.init(unit: unit, preferred: ["beta"])], membership: membership, selfAble: true, now: t0 + .seconds(3))
        #expect(chosen.map(\.target) == ["beta"])
        // Preferring this host keeps a unit whose hashed owner is beta.
        var keep = ClusterRebalancer()
        let betas = natural("beta", among: ["alpha", "beta"], units: units)[0]
        let result14 = keep.handovers(owned: [.init(unit: betas, preferred: ["alpha"])], membership: membership, selfAble: true, now: t0 + .seconds(3))
        #expect(result14.isEmpty)
    }

    @Test func failedHandoverCoolsDownThenTimesOut() {
        var membership = ClusterMembership(host: "alpha")
        membership.seen("beta", value: "able", now: t0)
        let settings = RebalanceSettings(settle: .seconds(3), inFlight: 4, timeout: .seconds(2), retryAfter: .seconds(30))
        var rebalancer = ClusterRebalancer(settings: settings)
        let unit = natural("beta", among: ["alpha", "beta"], units: units)[0]
        let owned = [ClusterRebalancer.OwnedUnit(unit: unit)]
        let start = t0 + .seconds(3)
        let result15 = rebalancer.handovers(owned: owned, membership: membership, selfAble: true, now: start)
        #expect(result15.count == 1)
        // In flight: not chosen again.
        let result16 = rebalancer.handovers(owned: owned, membership: membership, selfAble: true, now: start + .seconds(1))
        #expect(result16.isEmpty)
        // It came back to alpha (beta never claimed): cooled down towards beta for 30 s.
        rebalancer.claimed(unit, by: "alpha", now: start + .seconds(1))
        #expect(rebalancer.isCoolingDown(unit, towards: "beta", since: t0, now: start + .seconds(2)))
        let result17 = rebalancer.handovers(owned: owned, membership: membership, selfAble: true, now: start + .seconds(20))
        #expect(result17.isEmpty)
        let result18 = rebalancer.handovers(owned: owned, membership: membership, selfAble: true, now: start + .seconds(32))
        #expect(result18.count == 1)
        // No new owner seen within the timeout: the slot frees and the unit cools down.
        let result19 = rebalancer.handovers(owned: owned, membership: membership, selfAble: true, now: start + .seconds(35))
        #expect(result19.isEmpty)
        #expect(rebalancer.inFlight.isEmpty)
        #expect(rebalancer.isCoolingDown(unit, towards: "beta", since: t0, now: start + .seconds(35)))
        // beta left and came back (a new life): once settled it gets a fresh chance.
        membership.gone("beta")
        membership.seen("beta", value: "able", now: start + .seconds(36))
        let fresh = rebalancer.handovers(owned: owned, membership: membership, selfAble: true, now: start + .seconds(38))
        #expect(fresh.isEmpty)  // not settled yet
        let retried = rebalancer.handovers(owned: owned, membership: membership, selfAble: true, now: start + .seconds(39))
        #expect(retried.map(\.target) == ["beta"])
    }

    @Test func handOverStopsServingBeforeTheKeyGoesAndTheNaturalOwnerClaimsFirst() throws {
        let ours = FencingToken(rawValue: 5)
        var alpha = OwnershipStateMachine(unit: "u", host: "alpha")
        var beta = OwnershipStateMachine(unit: "u", host: "beta")
        _ = alpha.eligibilityChanged(eligible: true, rank: 0, now: t0)
        _ = try alpha.claimSucceeded(ours, now: t0)
        // beta joins and is the natural owner: ranks change, alpha keeps serving until told.
        #expect(alpha.eligibilityChanged(eligible: true, rank: 1, now: t0 + .seconds(1)) == .none)
        #expect(beta.observed(OwnershipHolder(host: "alpha", token: ours, isOurs: false), now: t0) == .none)
        _ = beta.eligibilityChanged(eligible: true, rank: 0, now: t0 + .seconds(1))
        let handOver = alpha.handOver(now: t0 + .seconds(4))
        #expect(handOver == OwnershipAction(engine: .deactivate, store: .release(ours)))
        #expect(!alpha.serves)
        #expect(try alpha.releaseCompleted(now: t0 + .seconds(4)) == .none)
        // The DELETE: beta (rank 0) claims at once, alpha (rank 1) only after its step.
        #expect(beta.observed(nil, now: t0 + .seconds(4)) == OwnershipAction(store: .claim))
        #expect(alpha.observed(nil, now: t0 + .seconds(4)).claimTimer?.deadline == t0 + .seconds(4) + OwnershipSettings().takeoverStep)
        #expect(try beta.claimSucceeded(FencingToken(rawValue: 9), now: t0 + .seconds(4)) == OwnershipAction(engine: .activate(FencingToken(rawValue: 9))))
        #expect(alpha.observed(OwnershipHolder(host: "beta", token: FencingToken(rawValue: 9), isOurs: false), now: t0 + .seconds(4)) == .none)
        #expect(alpha.stateName == "unowned")
    }
}
