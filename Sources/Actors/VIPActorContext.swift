/// What every VIP actor of one engine shares: the environment and the engine's selector,
/// directory, pacer and timer scheduler. Held by reference, so a VIP carries one pointer
/// where it carried copies of them all (about 170 bytes, times 100,000 VIPs).
final class VIPActorContext: Sendable {
    /// The world's protocols, the clock, the trace and the logger.
    let environment: EngineEnvironment
    /// Agent selection and the proxy lists.
    let selector: SelectorActor
    /// The adapters' and VIPs' actors.
    let directory: ActorDirectory
    /// Bounds the VIPs announcing at once.
    let pacer: ActivationPacer
    /// Runs every VIP's timers.
    let scheduler: VIPTimerScheduler

    /// Creates the context of one engine.
    init(
        environment: EngineEnvironment, selector: SelectorActor, directory: ActorDirectory, pacer: ActivationPacer,
        scheduler: VIPTimerScheduler
    ) {
        self.environment = environment
        self.selector = selector
        self.directory = directory
        self.pacer = pacer
        self.scheduler = scheduler
    }
}
