/// Where the VIPs of each agent go first when that agent's link fails, decided ahead of
/// time by the selector (the same choice its failover pass makes), so that the thread
/// that reads the link loss can announce the new agents at once, before the control plane
/// has heard of it (ARCHITECTURE.md §1, step 7; issue 13's carrier-loss window).
///
/// A plan is a hint for the first announcement only: the selector's own pass still decides,
/// publishes and binds, and announces again. A plan older than the current proxy lists is
/// filtered by them at use (a VIP no longer on the failed agent's list is not announced).
public struct StandbyPlan: Sendable, Equatable {
    /// The VIPs one standby adapter takes over from a failed agent.
    public struct Move: Sendable, Equatable {
        /// The adapter that becomes their agent.
        public let standby: AdapterName
        /// Its MAC: the one the announcements carry.
        public let mac: MACAddress
        /// The VIPs, in the order the selector's pass decides them.
        public let vips: [IPAddress]

        /// Creates a move.
        public init(standby: AdapterName, mac: MACAddress, vips: [IPAddress]) {
            self.standby = standby
            self.mac = mac
            self.vips = vips
        }
    }

    /// The answer table generation the plan was computed after: logged beside the table's
    /// own at a link loss, to tell how old the plan was.
    public let generation: UInt64
    /// By agent: where its VIPs go if its link fails, one move per standby adapter.
    public let moves: [AdapterName: [Move]]

    /// Creates a plan.
    public init(generation: UInt64, moves: [AdapterName: [Move]]) {
        self.generation = generation
        self.moves = moves
    }

    /// No plan: a link loss is left to the control plane alone.
    public static let empty = StandbyPlan(generation: 0, moves: [:])
}
