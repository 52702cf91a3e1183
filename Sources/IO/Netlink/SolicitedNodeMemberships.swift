import CLinuxNet
import Glibc
import ProxyARPCore
import Synchronization

/// The solicited-node multicast groups of the agents' IPv6 VIPs, joined on the agent
/// adapters (`IPV6_ADD_MEMBERSHIP` on one datagram socket: the kernel then sends the MLD
/// reports, so switches that snoop MLD forward solicitations to the agent). One
/// membership per distinct (group, adapter): VIPs that share their low 24 bits share a
/// group, counted here, joined at the first and left at the last.
public final class SolicitedNodeMemberships: Sendable {
    private struct Key: Hashable {
        let group: IPv6Address
        let interfaceIndex: UInt32
    }

    private struct State: ~Copyable {
        let descriptor: Int32
        var users: [Key: Int] = [:]
        deinit { close(descriptor) }
    }

    private let state: Mutex<State>

    /// Opens the socket (inside the network namespace at `namespacePath`, if given).
    public init(namespacePath: String? = nil) throws(HostNetworkingError) {
        let descriptor: Int32
        do {
            descriptor = try NetworkNamespace.run(in: namespacePath) { () throws(NetlinkError) -> Int32 in
                let fd = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
                guard fd >= 0 else { throw NetlinkError(operation: "socket(AF_INET6)", code: errno) }
                return fd
            }
        } catch {
            throw error.hostNetworkingError
        }
        state = Mutex(State(descriptor: descriptor))
    }

    /// Counts `vip` as a user of its solicited-node group on the interface `index`,
    /// joining the group if it is the first. Returns true when a group was joined.
    @discardableResult
    public func join(for vip: IPv6Address, interfaceIndex index: UInt32) throws(HostNetworkingError) -> Bool {
        let key = Key(group: vip.solicitedNodeGroup, interfaceIndex: index)
        return try state.withLock { state throws(HostNetworkingError) -> Bool in
            if let users = state.users[key] {
                state.users[key] = users + 1
                return false
            }
            try Self.membership(IPV6_ADD_MEMBERSHIP, key, state.descriptor)
            state.users[key] = 1
            return true
        }
    }

    /// Counts `vip` off its group on the interface `index`, leaving the group when it was
    /// the last user. Returns true when a group was left; not a user is fine.
    @discardableResult
    public func leave(for vip: IPv6Address, interfaceIndex index: UInt32) throws(HostNetworkingError) -> Bool {
        let key = Key(group: vip.solicitedNodeGroup, interfaceIndex: index)
        return try state.withLock { state throws(HostNetworkingError) -> Bool in
            guard let users = state.users[key] else { return false }
            if users > 1 {
                state.users[key] = users - 1
                return false
            }
            state.users[key] = nil
            // Gone already (the interface went away) is fine: the membership went with it.
            do throws(HostNetworkingError) {
                try Self.membership(IPV6_DROP_MEMBERSHIP, key, state.descriptor)
            } catch {
                guard error.code == .noSuchDevice || error.code == .notFound else { throw error }
            }
            return true
        }
    }

    /// Distinct groups currently joined, over all interfaces.
    public var joinedCount: Int { state.withLock { $0.users.count } }

    private static func membership(_ option: Int32, _ key: Key, _ descriptor: Int32) throws(HostNetworkingError) {
        var request = ipv6_mreq()
        withUnsafeMutableBytes(of: &request.ipv6mr_multiaddr) { bytes in
            for index in 0..<16 { bytes[index] = key.group.octet(index) }
        }
        request.ipv6mr_interface = key.interfaceIndex
        let status = setsockopt(descriptor, Int32(IPPROTO_IPV6), option, &request, socklen_t(MemoryLayout<ipv6_mreq>.size))
        guard status == 0 else {
            let code = errno
            throw NetlinkError(
                operation: "\(option == IPV6_ADD_MEMBERSHIP ? "join" : "leave") \(key.group) on interface \(key.interfaceIndex)",
                code: code
            ).hostNetworkingError
        }
    }
}
