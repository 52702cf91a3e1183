/// What every VIP actor of one engine shares: the environment and the engine's selector,
/// directory and timers. Held by reference, so a VIP carries one pointer where it carried
/// copies of them all (about 170 bytes, times 100,000 VIPs).
final class VIPActorContext: Sendable {
    /// The world's protocols, the clock, the trace and the logger.
    let environment: EngineEnvironment
    /// Agent selection, pacing and the proxy lists.
    let selector: SelectorActor
    /// The adapters' and VIPs' actors.
    let directory: ActorDirectory
    /// Every timer of the engine.
    let timers: EngineTimers
    /// Where the VIP publishes its brief at each transition (for `status` summaries).
    let board = VIPBoard()

    /// Creates the context of one engine.
    init(environment: EngineEnvironment, selector: SelectorActor, directory: ActorDirectory, timers: EngineTimers) {
        self.environment = environment
        self.selector = selector
        self.directory = directory
        self.timers = timers
    }
}
