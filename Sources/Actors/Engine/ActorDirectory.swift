import ProxyARPCore
import Synchronization

/// Finds the actor of an adapter or a VIP by name or address. Shared by the engine and
/// its actors; a mutex-guarded map, so a lookup costs no hop.
public final class ActorDirectory: Sendable {
    private let adapters = Mutex<[AdapterName: AdapterActor]>([:])
    private let vips = Mutex<[IPAddress: VIPActor]>([:])
    private let macs = Mutex<[MACAddress: AdapterName]>([:])

    /// Creates an empty directory.
    public init() {}

    /// The actor of `name`.
    public func adapter(_ name: AdapterName) -> AdapterActor? { adapters.withLock { $0[name] } }
    /// The actor of `vip`.
    public func vip(_ vip: IPAddress) -> VIPActor? { vips.withLock { $0[vip] } }
    /// Every VIP actor.
    public var allVIPs: [VIPActor] { vips.withLock { Array($0.values) } }
    /// Every adapter actor.
    public var allAdapters: [AdapterActor] { adapters.withLock { Array($0.values) } }
    /// The managed adapter that owns `mac`.
    public func adapter(owning mac: MACAddress) -> AdapterName? { macs.withLock { $0[mac] } }

    func register(_ actor: AdapterActor) { adapters.withLock { $0[actor.name] = actor } }
    func unregisterAdapter(_ name: AdapterName) { adapters.withLock { $0[name] = nil } }
    func register(_ actor: VIPActor) { vips.withLock { $0[actor.vip] = actor } }
    func unregisterVIP(_ vip: IPAddress) { vips.withLock { $0[vip] = nil } }
    func setMAC(_ mac: MACAddress, of adapter: AdapterName) {
        macs.withLock { map in
            map = map.filter { $0.value != adapter }
            map[mac] = adapter
        }
    }
}
